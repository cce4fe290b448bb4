"""``openalgo new-plugin ID``: a broker package on the kit, with its own simulator.

The package it writes passes the kit's conformance suite out of the box
(``pip install -e '.[test]' && pytest``); a broker author then replaces the template
broker's facts (``broker.py``) and protocol (``simulator.py``) with the real ones.
``docs/writing-a-plugin.md`` walks through the files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from string import Template

from ..errors import ConfigurationError, ValidationError

__all__ = ["write_plugin"]

FILES = Path(__file__).parent / "files"
_ID = re.compile(r"[a-z][a-z0-9_]{1,31}")
#: template file -> where it goes in the package (``package/`` is ``openalgo_<id>/``)
_SUFFIX = ".tmpl"


def write_plugin(broker: str, directory: str | os.PathLike[str] = ".") -> Path:
    """Write ``openalgo-<broker>/`` in ``directory``; return its path.

    Raises:
        ValidationError: ``broker`` is not a valid id (lower-case, 2-32 characters).
        ConfigurationError: the target exists, or cannot be written.
    """
    if not _ID.fullmatch(broker):
        raise ValidationError(f"broker id must be lower-case letters, digits and _ (2-32,"
                              f" starting with a letter); got {broker!r}", field="broker")
    target = Path(directory) / f"openalgo-{broker}"
    if target.exists():
        raise ConfigurationError(f"{target} already exists; choose another directory")
    words = broker.split("_")
    values = {"id": broker, "ID": broker.upper(), "Name": " ".join(w.capitalize() for w in words),
              "Class": "".join(w.capitalize() for w in words)}
    try:
        for source in sorted(FILES.rglob(f"*{_SUFFIX}")):
            relative = source.relative_to(FILES).with_suffix("")
            parts = [f"openalgo_{broker}" if p == "package" else p for p in relative.parts]
            path = target.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(Template(source.read_text()).substitute(values))
        (target / f"openalgo_{broker}" / "py.typed").write_text("")
    except OSError as exc:
        raise ConfigurationError(f"cannot write {target}: {exc.strerror}") from None
    return target
