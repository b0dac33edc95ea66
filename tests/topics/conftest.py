"""The topics tests share test_stage's fixture: a temporary store whose three places talk about their own things."""

from tests.topics.test_stage import study  # noqa: F401
