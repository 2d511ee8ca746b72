"""Model engines, one interface per pipeline stage. Engines know nothing of the Live protocol."""
