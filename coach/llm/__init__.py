"""The LLM coach: prompts as files, typed output, PII masking, guarded and merged with the rules."""
