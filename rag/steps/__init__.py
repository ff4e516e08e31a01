"""The steps of the answer pipeline, one module each, in the order ``rag/pipeline.py`` lists them."""
