"""The trust issue, results-store part: read-only folders, OS error lines, --tol names, nested
stores, concurrent runs and stale run records."""
from __future__ import annotations

import errno

from vsrbench.core.errors import InputError, os_error, os_error_message


def test_os_error_message_names_the_path_not_the_temp_file():
    e = OSError(errno.EROFS, "Read-only file system", "/r/.definitions.json.0lj9shil.tmp")
    msg = os_error_message(e, "write results folder", "/r")
    assert msg == "cannot write results folder '/r': read-only file system"
    assert ".tmp" not in msg
    err = os_error(PermissionError(errno.EACCES, "Permission denied"), "write", "/x/out.csv")
    assert isinstance(err, InputError) and str(err) == "cannot write '/x/out.csv': permission denied"
    assert os_error_message(OSError(errno.EIO, "Input/output error"), "read", "/r") == "cannot read '/r': input/output error"
