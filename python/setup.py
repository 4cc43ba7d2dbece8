"""Build hooks for pyproject.toml: the version comes from the C header, and the
library built by `make` (build/lib/libprovmark.so.1) is bundled into the package
when it is there, so that the installed package loads the library it was built
with. PROVMARK_BUNDLE=PATH bundles that file instead; PROVMARK_BUNDLE=0 bundles
nothing (a distribution package that depends on the system's libprovmark1)."""
import os
import re
import shutil

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.dirname(HERE)
SONAME = "libprovmark.so.1"


def version():
    with open(os.path.join(TREE, "include", "provmark.h"), encoding="utf-8") as f:
        return re.search(r'#define PM_VERSION_STRING "([^"]+)"', f.read()).group(1)


def bundled_library():
    choice = os.environ.get("PROVMARK_BUNDLE")
    if choice == "0":
        return None
    path = choice or os.path.join(TREE, "build", "lib", SONAME)
    if not os.path.exists(path):
        if choice:
            raise SystemExit(f"provmark: PROVMARK_BUNDLE={choice}: no such file")
        print(f"provmark: {path} not built (run make first): the package will use the "
              "system's libprovmark.so.1")
        return None
    return path


LIBRARY = bundled_library()


class BuildPy(build_py):
    def run(self):
        super().run()
        if LIBRARY:
            shutil.copyfile(LIBRARY, os.path.join(self.build_lib, "provmark", SONAME))


class MaybeBinary(Distribution):
    """A wheel that bundles the library is platform-specific."""

    def has_ext_modules(self):
        return LIBRARY is not None


setup(version=version(), cmdclass={"build_py": BuildPy}, distclass=MaybeBinary)
