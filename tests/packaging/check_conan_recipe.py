"""packaging.conan_recipe: Conan cannot run here (no network to its registries), so this runs the
recipe's methods against a minimal stand-in for the `conan` module and checks what can be checked
without Conan: the version comes from version.hpp, the options map to the right requirements, and
package_info() names the same CMake targets and pkg-config module as mskiam's own CMake package.

    python3 check_conan_recipe.py <source dir>
"""
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

    for curl in (True, False):
        for rdkafka in (True, False):
            recipe = Recipe()
            recipe.options = Options(with_curl=curl, with_rdkafka=rdkafka)
            recipe.settings = Options(os="Linux")
            required = []
            recipe.requires = lambda ref, **kw: required.append(ref.split("/")[0])
            recipe.requirements()
            want = ["openssl"] + ["libcurl"] * curl + ["librdkafka"] * rdkafka
            if sorted(required) != sorted(want):
                failures.append(f"curl={curl} rdkafka={rdkafka}: requires {required}, want {want}")

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
                failures.append(f"rdkafka={rdkafka}: mskiam::rdkafka present={not rdkafka}")
            core = targets.get("mskiam::mskiam")
            if core and ("libcurl::curl" in core.requires) != curl:
                failures.append(f"curl={curl}: core requires {core.requires}")
            # Every component requirement names a declared requirement or a sibling component.
            for comp in comps.values():
                for req in comp.requires:
                    package = req.split("::")[0] if "::" in req else None
                    if package is None and req not in comps:
                        failures.append(f"unknown component {req}")
                    if package and package not in required:
                        failures.append(f"{req} is not a requirement (curl={curl} rdkafka={rdkafka})")

    if failures:
        print("conanfile.py:\n  " + "\n  ".join(failures))
        return 1
    print(f"conanfile.py: mskiam {expected}, header-library, options and targets consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
