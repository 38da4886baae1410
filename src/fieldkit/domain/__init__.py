"""Pure domain: pydantic models, vocabularies, error codes. No I/O, no Qt, no database."""
