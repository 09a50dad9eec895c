"""Pure-Python building blocks: clock, ids, text folding, geometry lookup, translations."""
