# Optional compression of the sealed store's plaintext (sealed.py): a deflater where the
# runtime can compress (found by feature, never by platform), and an inflater capped in
# output size and window, used only after the MAC check.
from micropython import const

_ZLIB_WBITS = const(10)  # 1 KB window: a board inflates with no more than that


def _module(name, attr):
    # The module if this runtime has it with attr (a feature test, never a platform test).
    try:
        m = __import__(name)
    except ImportError:
        return None
    return m if hasattr(m, attr) else None


def find_deflater():
    zlib = _module("zlib", "compressobj")  # CPython
    if zlib is not None:

        def z(data):
            c = zlib.compressobj(9, 8, _ZLIB_WBITS)
            return c.compress(data) + c.flush()

        return z
    deflate = _module("deflate", "DeflateIO")
    if deflate is not None and hasattr(deflate.DeflateIO, "write"):  # DEFLATE_COMPRESS builds
        import io

        def d(data):
            out = io.BytesIO()
            f = deflate.DeflateIO(out, deflate.ZLIB, _ZLIB_WBITS)
            f.write(data)
            f.close()
            return out.getvalue()

        return d
    return None


def inflate(data, cap):
    # The zlib stream's contents, or None if it is damaged, asks for a window over 1 KB or
    # inflates to more than cap bytes (read no further than that: no bomb).
    if len(data) < 2 or data[0] & 0x0F != 8 or data[0] >> 4 > _ZLIB_WBITS - 8:
        return None
    try:
        deflate = _module("deflate", "DeflateIO")  # MicroPython
        if deflate is not None:
            import io

            out = deflate.DeflateIO(io.BytesIO(data), deflate.ZLIB).read(cap + 1)
        else:
            z = _module("zlib", "decompressobj").decompressobj()
            out = z.decompress(data, cap + 1)
            if len(out) <= cap and not z.eof:
                return None
    except Exception:  # noqa: BLE001 - a damaged stream: OSError here, zlib.error on CPython
        return None
    if out is None or len(out) > cap:
        return None
    return out
