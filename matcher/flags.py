"""Flags a match carries besides its score (negative keywords and rules add their own)."""

FLAG_CLOSING_SOON = "closing-soon"
FLAG_PREFERRED = "preferred-programme"
