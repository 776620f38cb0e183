from kilat.cli import app

app(prog_name="kilat")
