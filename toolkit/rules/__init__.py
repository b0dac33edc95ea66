


def read_yaml(name: str, path: str | None = None) -> tuple[str, dict]:
    """A rules file as (how messages name it, its mapping): the packaged ``rules/<name>``, or ``path``.

    One reader for every YAML rules file (polarity cues, coding units, practice screens), so each
    says where a bad entry is the same way.
    """
    from importlib import resources

    import yaml

    where = path or f"rules/{name}"
    if path is None:
        text = resources.files("toolkit.rules").joinpath(name).read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    return where, yaml.safe_load(text) or {}

