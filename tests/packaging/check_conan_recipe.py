"""packaging.conan_recipe: runs the recipe's methods against a minimal stand-in for the `conan`
module, in a second, without Conan installed: the version comes from version.hpp, the options map to
the right requirements, and package_info() names the same CMake targets and pkg-config module as
mskiam's own CMake package. scripts/conan-create.sh runs the real Conan, but only with the system's
libraries as platform requirements; this check also covers the requirements coming from Conan
packages (ConanCenter), which cannot be downloaded here.

    python3 check_conan_recipe.py <source dir>
"""
import itertools
import os
import re
import sys
import types


def stub_conan():
    conan = types.ModuleType("conan")

    class ConanFile:
        pass

    conan.ConanFile = ConanFile
    tools = types.ModuleType("conan.tools")
    files = types.ModuleType("conan.tools.files")
    files.copy = lambda *a, **k: None
    files.load = lambda self, path: open(path, encoding="utf-8").read()
    build = types.ModuleType("conan.tools.build")
    build.check_min_cppstd = lambda self, std: None
    build.can_run = lambda self: True
    layout = types.ModuleType("conan.tools.layout")
    layout.basic_layout = lambda self, src_folder=".": None
    cmake = types.ModuleType("conan.tools.cmake")
    for name in ("CMake", "CMakeToolchain", "cmake_layout"):
        setattr(cmake, name, object)
    for module in (conan, tools, files, build, layout, cmake):
        sys.modules[module.__name__] = module


class Options(dict):
    __getattr__ = dict.__getitem__


class CppInfo:
    def __init__(self):
        self.properties = {}
        self.components = {}
        self.requires = []
        self.system_libs = []

    def set_property(self, name, value):
        self.properties[name] = value

    def __getattr__(self, name):  # components["x"] on first use, like Conan's
        raise AttributeError(name)


class Components(dict):
    def __missing__(self, key):
        self[key] = CppInfo()
        return self[key]


def load_recipe(source_dir):
    sys.path.insert(0, source_dir)
    import conanfile  # noqa: E402

    return conanfile.MskiamConan


def main():
    source_dir = os.path.abspath(sys.argv[1])
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    for path in ("conanfile.py", "test_package/conanfile.py"):  # what py_compile checks
        full = os.path.join(source_dir, path)
        compile(open(full, encoding="utf-8").read(), full, "exec")
    stub_conan()
    Recipe = load_recipe(source_dir)
    failures = []

    hpp = open(os.path.join(source_dir, "include/mskiam/version.hpp"), encoding="utf-8").read()
    expected = ".".join(re.search(rf"#define MSKIAM_VERSION_{p} (\d+)", hpp).group(1)
                        for p in ("MAJOR", "MINOR", "PATCH"))
    recipe = Recipe()
    recipe.recipe_folder = source_dir
    recipe.set_version()
    if recipe.version != expected:
        failures.append(f"set_version gives {recipe.version}, version.hpp {expected}")
    if Recipe.package_type != "header-library":
        failures.append(f"package_type is {Recipe.package_type}")

    # Requirements as Conan packages (ConanCenter), or all given by the platform ([platform_requires]:
    # Conan leaves them out of self.dependencies.host, and the recipe links them by name).
    for from_platform, curl, rdkafka in itertools.product((False, True), repeat=3):
        where = f"curl={curl} rdkafka={rdkafka} platform={from_platform}"
        recipe = Recipe()
        recipe.options = Options(with_curl=curl, with_rdkafka=rdkafka)
        recipe.settings = Options(os="Linux")
        required = []
        recipe.requires = lambda ref, **kw: required.append(ref.split("/")[0])
        recipe.requirements()
        want = ["openssl"] + ["libcurl"] * curl + ["librdkafka"] * rdkafka
        if sorted(required) != sorted(want):
            failures.append(f"{where}: requires {required}, want {want}")

        recipe.dependencies = types.SimpleNamespace(host=set() if from_platform else set(required))
        recipe.cpp_info = CppInfo()
        recipe.cpp_info.components = Components()
        recipe.package_info()
        info = recipe.cpp_info
        comps = info.components
        targets = {c.properties.get("cmake_target_name"): c for c in comps.values()}
        if info.properties.get("cmake_file_name") != "mskiam":
            failures.append("cmake_file_name is not mskiam")
        if "mskiam::mskiam" not in targets:
            failures.append("no component with target mskiam::mskiam")
        elif targets["mskiam::mskiam"].properties.get("pkg_config_name") != "mskiam":
            failures.append("mskiam::mskiam is not pkg-config module mskiam")
        if info.properties.get("cmake_target_name") in targets:
            failures.append("the aggregate target repeats a component's target name")
        if ("mskiam::rdkafka" in targets) != rdkafka:
            failures.append(f"{where}: mskiam::rdkafka present={not rdkafka}")
        core = targets.get("mskiam::mskiam") or CppInfo()
        links_curl = ("curl" in core.system_libs) if from_platform else ("libcurl::curl" in core.requires)
        if links_curl != curl:
            failures.append(f"{where}: core requires {core.requires}, links {core.system_libs}")
        if from_platform:
            # Nothing may name a Conan package: CMakeDeps fails on a requirement it has no
            # package for. The system's libraries are linked instead.
            linked = [lib for c in comps.values() for lib in c.system_libs]
            want_libs = ["crypto"] + ["curl"] * curl + ["rdkafka++", "rdkafka"] * rdkafka
            if sorted(lib for lib in linked if lib != "pthread") != sorted(want_libs):
                failures.append(f"{where}: links {linked}, want {want_libs}")
        # Every component requirement names a declared requirement or a sibling component.
        for comp in comps.values():
            for req in comp.requires:
                package = req.split("::")[0] if "::" in req else None
                if package is None and req not in comps:
                    failures.append(f"unknown component {req}")
                if package and package not in recipe.dependencies.host:
                    failures.append(f"{req} is not a requirement ({where})")

    if failures:
        print("conanfile.py:\n  " + "\n  ".join(failures))
        return 1
    print(f"conanfile.py: mskiam {expected}, header-library, options and targets consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
