"""kbp_elf: a small ELF64 reader for the integration tests' checks."""
import re
import struct
import sys

RELOC_SIZES = {1: 8, 2: 4, 4: 4, 9: 4, 10: 4, 11: 4, 24: 8, 41: 4, 42: 4}
STATIC_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[0-9]+$")


class Elf:
    def __init__(self, path):
        self.data = open(path, "rb").read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2:
            sys.exit(f"{path}: not an ELF64 file")
        self.type = struct.unpack_from("<H", d, 16)[0]
        shoff, = struct.unpack_from("<Q", d, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3a)
        self.secs = []
        for i in range(shnum):
            f = struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize)
            self.secs.append(dict(name=f[0], type=f[1], flags=f[2], addr=f[3],
                                  offset=f[4], size=f[5], link=f[6], info=f[7],
                                  entsize=f[9]))
        strtab = self.secs[shstrndx]
        for s in self.secs:
            s["name"] = self.cstr(strtab["offset"] + s["name"])

    def cstr(self, off):
        end = self.data.index(b"\0", off)
        return self.data[off:end].decode()

    def symbols(self):
        symtab = next(s for s in self.secs if s["type"] == 2)
        strtab = self.secs[symtab["link"]]
        out, current_file = [], None
        for i in range(symtab["size"] // 24):
            name, info, other, shndx, value, size = struct.unpack_from(
                "<IBBHQQ", self.data, symtab["offset"] + i * 24)
            name = self.cstr(strtab["offset"] + name)
            if info & 0xF == 4:
                current_file = name
            out.append(dict(index=i, name=name, type=info & 0xF, bind=info >> 4,
                            shndx=shndx, value=value, size=size,
                            file=current_file))
        return out

    def relocations(self, secidx):
        for s in self.secs:
            if s["type"] == 4 and s["info"] == secidx:
                for i in range(s["size"] // 24):
                    off, info, addend = struct.unpack_from(
                        "<QQq", self.data, s["offset"] + i * 24)
                    yield off, info & 0xFFFFFFFF, info >> 32, addend


def symbol_file_offset(path, name):
    """The file offset of the first byte of the symbol name in path."""
    e = Elf(path)
    s = next(s for s in e.symbols() if s["name"] == name and s["shndx"])
    sec = e.secs[s["shndx"]]
    base = sec["addr"] if e.type == 2 else 0
    return sec["offset"] + s["value"] - base


def printk_sites(path):
    """The printk sites that .printk_index of the relocatable object path
    lists, as (function, format) pairs read through its relocations: each
    entry points to a struct pi_entry whose fields 0 and 1 (fmt, func)
    point to strings."""
    e = Elf(path)
    syms = e.symbols()
    idx = next((i for i, s in enumerate(e.secs)
                if s["name"] == ".printk_index"), None)
    if idx is None:
        return []

    def target(secidx, off):
        # Where the 8-byte pointer at secidx+off points: (section, offset).
        for roff, _, symidx, addend in e.relocations(secidx):
            if roff == off:
                sym = syms[symidx]
                return sym["shndx"], sym["value"] + addend
        return None

    def string(place):
        sec = e.secs[place[0]]
        return e.cstr(sec["offset"] + place[1])

    out = []
    for off in range(0, e.secs[idx]["size"], 8):
        entry = target(idx, off)
        fmt = string(target(entry[0], entry[1]))
        if fmt.startswith("\x01"):
            fmt = fmt[2:]
        out.append((string(target(entry[0], entry[1] + 8)), fmt))
    return out


def static_refs(path, func):
    """The function-scope statics (local objects named NAME.N) that the
    code of function func in the relocatable object path (built with
    -fdata-sections) refers to, by name or through the section symbol of
    the object's own section: sorted names."""
    e = Elf(path)
    syms = e.symbols()
    f = next(s for s in syms if s["name"] == func and s["type"] == 2
             and s["shndx"])
    out = set()
    for off, rtype, symidx, addend in e.relocations(f["shndx"]):
        if not f["value"] <= off < f["value"] + f["size"]:
            continue
        sym = syms[symidx]
        if sym["type"] == 3:
            # Through a section symbol: with -fdata-sections, the one
            # object of its section (a PC-relative field followed by an
            # immediate makes the addend alone ambiguous).
            objs = [s for s in syms if s["type"] == 1
                    and s["shndx"] == sym["shndx"]]
            if not objs:
                continue    # strings, anonymous constants
            if len(objs) > 1:
                sys.exit(f"{path}: {e.secs[sym['shndx']]['name']} holds "
                         f"{len(objs)} objects; build with -fdata-sections")
            sym = objs[0]
        if sym and sym["type"] == 1 and sym["bind"] == 0 and \
                STATIC_LOCAL.match(sym["name"]):
            out.add(sym["name"])
    return sorted(out)


def sympos(path, name, file):
    """kallsyms' sympos of the local name of file block file in the
    linked kernel path: 0 when the name is unique, else its rank by
    address among the defined symbols of that name."""
    same = [s for s in Elf(path).symbols()
            if s["name"] == name and s["shndx"] and s["type"] != 3]
    mine = [s for s in same if s["bind"] == 0 and s["file"] == file]
    if len(mine) != 1:
        sys.exit(f"{path}: {len(mine)} symbols {name} in file {file}")
    if len(same) == 1:
        return 0
    return 1 + sum(1 for s in same if s["value"] < mine[0]["value"])


def flip_byte(path, out):
    """Copy path to out with one byte of its largest function changed, at
    the first place past the fentry call that no relocation covers; return
    the function's name."""
    e = Elf(path)
    funcs = [s for s in e.symbols() if s["type"] == 2 and s["shndx"]
             and s["size"] > 32]
    f = max(funcs, key=lambda s: s["size"])
    sec = e.secs[f["shndx"]]
    covered = set()
    for off, rtype, _, _ in e.relocations(f["shndx"]):
        covered.update(range(off, off + RELOC_SIZES.get(rtype, 8)))
    pos = next(p for p in range(f["value"] + 16, f["value"] + f["size"])
               if p not in covered)
    data = bytearray(e.data)
    data[sec["offset"] + pos] ^= 0x01
    open(out, "wb").write(data)
    return f["name"]


if __name__ == "__main__":
    # kbp_elf.py offset FILE SYMBOL: print the symbol's file offset.
    # kbp_elf.py flip-byte FILE OUT: FILE with one code byte of its
    # largest function changed (a one-function change), written to OUT.
    # kbp_elf.py printk-sites FILE: print "function<TAB>format" for each
    # .printk_index entry (the KERN_ level prefix stripped).
    # kbp_elf.py static-refs FILE FUNC: the static locals FUNC uses.
    # kbp_elf.py sympos VMLINUX NAME FILE: the sympos of file FILE's NAME.
    if len(sys.argv) == 4 and sys.argv[1] == "offset":
        print(symbol_file_offset(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "flip-byte":
        print(flip_byte(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "printk-sites":
        for func, fmt in printk_sites(sys.argv[2]):
            print(f"{func}\t{fmt!r}")
    elif len(sys.argv) == 4 and sys.argv[1] == "static-refs":
        for name in static_refs(sys.argv[2], sys.argv[3]):
            print(name)
    elif len(sys.argv) == 5 and sys.argv[1] == "sympos":
        print(sympos(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        sys.exit("usage: kbp_elf.py offset FILE SYMBOL | printk-sites FILE"
                 " | flip-byte FILE OUT | static-refs FILE FUNC"
                 " | sympos VMLINUX NAME FILE")
