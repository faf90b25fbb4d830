"""What the test suite and the benchmarks share: fake platform servers on loopback (Telegram Bot
API, Slack Web API, an OpenAI-compatible server), scripted interviews and small drivers.

Not part of the installed bot; both `tests/` and `bench/` import it, neither imports the other."""
