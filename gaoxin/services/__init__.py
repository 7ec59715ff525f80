"""Operations that change data: they flush and log, and never commit (the view commits once)."""
