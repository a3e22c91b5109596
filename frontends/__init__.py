"""Ways people use localgpt beyond one `ask`: an interactive chat and batch files of questions."""
