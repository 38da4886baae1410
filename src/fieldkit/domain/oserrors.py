"""Short, translatable reasons for the operating-system errors people meet with files.

``OSError.strerror`` is the C library's English text ("No such file or directory"); shown inside a
Ukrainian or Russian message it reads as a fault of the program. :func:`os_reason` maps the common
error numbers to a short reason marked for translation and returns it as a
:class:`~fieldkit.domain.errors.TranslatableText`, so ``FieldkitError.message(translator)``
translates it with the rest of the message. Any area can use it::

    except OSError as exc:
        raise FieldkitError(ErrorCode.FILE_NOT_READABLE, path=shown, reason=os_reason(exc))

No I/O here: only the mapping.
"""

from __future__ import annotations

import errno

from fieldkit.domain.errors import N_, TranslatableText

NOT_REGULAR_FILE = N_("not a regular file (a folder, device or pipe)")
UNKNOWN_REASON = N_("the operating system refused the operation")

OS_REASONS: dict[int, str] = {
    errno.ENOENT: N_("no such file or folder"),
    errno.EACCES: N_("permission denied"),
    errno.EPERM: N_("the operation is not permitted"),
    errno.EISDIR: N_("it is a folder, not a file"),
    errno.ENOTDIR: N_("a part of the path is not a folder"),
    errno.ENOSPC: N_("no space left on the drive"),
    errno.EDQUOT: N_("the disk quota is exhausted"),
    errno.ELOOP: N_("a symbolic link is in the way (links are not followed)"),
    errno.EROFS: N_("the drive is read-only"),
    errno.EEXIST: N_("a file with this name already exists"),
    errno.ENAMETOOLONG: N_("the name is too long"),
    errno.EIO: N_("input/output error (the drive may be failing or was removed)"),
    errno.EFBIG: N_("the file is too large for this drive"),
    errno.EBUSY: N_("the file or drive is busy"),
    errno.ETXTBSY: N_("the file is busy"),
    errno.EMFILE: N_("too many open files"),
}


def os_reason(exc: OSError | int | None) -> TranslatableText:
    """A short reason for an OS error (an ``OSError`` or an errno), translated when shown.

    Unknown numbers give a generic reason, never the C library's English text.
    """
    number = exc.errno if isinstance(exc, OSError) else exc
    return TranslatableText(OS_REASONS.get(number, UNKNOWN_REASON) if number else UNKNOWN_REASON)
