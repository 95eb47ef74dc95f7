"""Similar sheets: embeddings that work offline, and a Chroma store kept in step with the database."""
