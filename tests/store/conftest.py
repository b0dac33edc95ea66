"""The store's tests run on both backends: ``store_url`` and the server come from :mod:`tests.postgres`
(a plugin of ``tests/conftest.py``, so the whole suite shares one throw-away server)."""
