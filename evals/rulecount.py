"""Count the hand-written rules of the answering core: regular expressions, their alternatives, numeric
constants and word lists. ``ctn eval rules`` prints the count; the report keeps it beside the quality figures,
since a rule added for one question shows up here before it shows up anywhere else.

What counts (read from the source with ``ast``, so comments and docstrings do not):
- a regular expression: a string literal passed to ``re.compile``/``re.search``/... (also a literal joined
  with ``+`` or an f-string); its alternatives are its unescaped ``|`` plus one;
- a numeric constant: a number literal other than 0, 1 and -1 (indices, flags and counters aside, every
  such literal is a weight, threshold or limit somebody chose);
- a word list: a set, list, tuple or dict literal holding five or more string literals.
Data files (``rag/data/*.yaml``) are counted apart: their patterns and words are data, not code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

RE_FUNCS = {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split"}


@dataclass
class Count:
    files: list[str] = field(default_factory=list)
    regexes: int = 0
    alternatives: int = 0
    numbers: int = 0
    word_lists: int = 0

    def add(self, other: Count) -> None:
        self.files += other.files
        self.regexes += other.regexes
        self.alternatives += other.alternatives
        self.numbers += other.numbers
        self.word_lists += other.word_lists

    def as_dict(self) -> dict:
        return {"files": len(self.files), "regexes": self.regexes, "alternatives": self.alternatives,
                "numeric_constants": self.numbers, "word_lists": self.word_lists}


def _literal_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_text(node.left), _literal_text(node.right)
        if left is not None or right is not None:
            return (left or "") + (right or "")
    return None


def count_source(source: str, name: str = "") -> Count:
    tree = ast.parse(source)
    out = Count(files=[name])
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                  and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RE_FUNCS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re" and node.args):
            text = _literal_text(node.args[0])
            if text is not None:
                out.regexes += 1
                out.alternatives += len(re.findall(r"(?<!\\)\|", text)) + 1
        elif (isinstance(node, ast.Constant) and isinstance(node.value, int | float)
              and not isinstance(node.value, bool) and node.value not in (0, 1) and id(node) not in docstrings):
            out.numbers += 1
        elif isinstance(node, ast.Set | ast.List | ast.Tuple):
            if sum(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts) >= 5:
                out.word_lists += 1
        elif isinstance(node, ast.Dict):
            if sum(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys) >= 5 and all(
                    isinstance(v, ast.Constant) and isinstance(v.value, str) for v in node.values):
                out.word_lists += 1
    # "-1" is a UnaryOp over 1: not counted above, as intended.
    return out


def count_files(paths: list[Path]) -> Count:
    total = Count()
    for path in paths:
        total.add(count_source(path.read_text(encoding="utf-8"), str(path)))
    return total


def _core(*names: str) -> list[Path]:
    root = Path(__file__).resolve().parents[1]
    return [root / n for n in names]


# The answering core as it was (session 2, commit 90e8e08) and as it is: the modules that decide what an answer
# says, from the question's analysis to the checked text (retrieval and the stores are not counted).
CORE_BEFORE = ("rag/evidence.py", "rag/extractive.py", "rag/decompose.py", "rag/routing.py", "rag/followup.py",
               "rag/pipeline.py", "rag/rerank.py", "rag/text_analysis.py", "rag/sentences.py", "rag/acts.py")
BEFORE = {"commit": "90e8e08", "files": len(CORE_BEFORE), "regexes": 101, "alternatives": 903,
          "numeric_constants": 106, "word_lists": 18}
CORE_AFTER = _core("rag/question.py", "rag/followup.py", "rag/pipeline.py", "rag/rerank.py", "rag/text_analysis.py",
                   "rag/sentences.py", "rag/acts.py", "rag/values.py", "rag/lexicon.py", "rag/language.py",
                   "rag/citations.py", "rag/phrases.py", "rag/state.py", *(f"rag/steps/{n}.py" for n in (
                       "rewrite", "analyse", "retrieve", "route", "rerank", "amendments", "verify", "warnings")),
                   *(f"rag/answering/{n}.py" for n in ("units", "features", "model", "extractive", "draft", "compose",
                                                       "base", "llm")))
