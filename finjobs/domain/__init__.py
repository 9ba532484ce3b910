"""Pure domain code: standard library, decimal and dataclasses only; values in, values out."""
