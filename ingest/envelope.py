"""Signed files: CAdES envelopes (``.pdf.p7m``, ``.docx.p7m``), as Italian acts are often published.

The envelope is a CMS SignedData structure (DER, or the same in base64); the document inside is taken
out and loaded by its own loader (the name without ``.p7m`` gives its format), and who signed it and when
(the signer certificate's common name, the ``signingTime`` attribute) are kept as document metadata. The
signature is not verified: the assistant reads the act, it does not certify it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from ingest.blocks import LoadError

MAX_NESTING = 3  # an envelope inside an envelope (countersigned files) is opened up to this depth


@dataclass
class Opened:
    content: bytes
    signers: list[str]
    signed_at: list[str]


def _der(raw: bytes) -> bytes:
    if raw[:1] == b"\x30":
        return raw
    text = raw.strip()
    if text.startswith(b"-----BEGIN"):
        text = b"".join(line for line in text.splitlines() if not line.startswith(b"-----"))
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise LoadError("broken signed envelope (.p7m): neither DER nor base64") from exc


def open_envelope(raw: bytes) -> Opened:
    """The signed content and its signers; ``LoadError`` for a truncated or foreign file."""
    from asn1crypto import cms

    signers: list[str] = []
    times: list[str] = []
    data = raw
    for _ in range(MAX_NESTING):
        try:
            info = cms.ContentInfo.load(_der(data), strict=False)
            if info["content_type"].native != "signed_data":
                raise LoadError(f"not a signed envelope (.p7m): it holds {info['content_type'].native}")
            signed = info["content"]
            content = signed["encap_content_info"]["content"].native
            certs = {}
            for cert in signed["certificates"] or []:
                chosen = cert.chosen
                if hasattr(chosen, "issuer_serial"):
                    certs[(chosen.issuer.dump(), chosen.serial_number)] = chosen
            for si in signed["signer_infos"]:
                sid = si["sid"].chosen
                cert = None
                if si["sid"].name == "issuer_and_serial_number":
                    cert = certs.get((sid["issuer"].dump(), sid["serial_number"].native))
                if cert is not None:
                    subject = cert.subject.native
                    signers.append(str(subject.get("common_name") or cert.subject.human_friendly))
                for attr in si["signed_attrs"] or []:
                    if attr["type"].native == "signing_time":
                        times.append(attr["values"][0].native.isoformat())
        except LoadError:
            raise
        except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError... on broken bytes
            raise LoadError(f"broken signed envelope (.p7m): {type(exc).__name__}: {exc}"[:300]) from exc
        if content is None:
            raise LoadError("signed envelope (.p7m) without the document inside (a detached signature)")
        data = content
        if not _looks_like_envelope(data):
            break
    return Opened(data, signers, times)


def _looks_like_envelope(data: bytes) -> bool:
    return data[:1] == b"\x30" and b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02" in data[:32]
