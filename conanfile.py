# Conan 2 recipe for mskiam, kept in the project's own repository: `conan create .` packages this
# checkout and builds test_package/ against it. Header-only: one package for every configuration;
# the options only choose which libraries consumers link.
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class MskiamConan(ConanFile):
    name = "mskiam"
    description = ("AWS MSK IAM authentication tokens for librdkafka, header-only C++17: "
                   "SigV4-signed tokens, credential sources and refresh that keeps one principal")
    license = "Apache-2.0"
    url = "https://github.com/mskiam/mskiam"
    homepage = "https://github.com/mskiam/mskiam"
    topics = ("kafka", "librdkafka", "aws", "msk", "iam", "sigv4", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "with_curl": [True, False],     # mskiam/http.hpp and the sources that make HTTP calls
        "with_rdkafka": [True, False],  # mskiam/rdkafka.hpp, target mskiam::rdkafka
    }
    default_options = {
        "with_curl": True,
        "with_rdkafka": False,
    }
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    def set_version(self):
        # include/mskiam/version.hpp is the only place the version is written.
        text = load(self, os.path.join(self.recipe_folder, "include", "mskiam", "version.hpp"))
        parts = [re.search(rf"#define MSKIAM_VERSION_{p} (\d+)", text).group(1)
                 for p in ("MAJOR", "MINOR", "PATCH")]
        self.version = ".".join(parts)

    def layout(self):
        basic_layout(self, src_folder=".")

    def requirements(self):
        # Headers of the dependencies are included by mskiam's headers: transitive_headers.
        self.requires("openssl/[>=1.1 <4]", transitive_headers=True)
        if self.options.with_curl:
            self.requires("libcurl/[>=7.78 <9]", transitive_headers=True)
        if self.options.with_rdkafka:
            self.requires("librdkafka/[>=2.0 <3]", transitive_headers=True)

    def package_id(self):
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, 17)

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))

    def package_info(self):
        # The same names as mskiam's own CMake package: find_package(mskiam CONFIG REQUIRED
        # [COMPONENTS rdkafka]) with targets mskiam::mskiam and mskiam::rdkafka, and mskiam.pc.
        self.cpp_info.set_property("cmake_file_name", "mskiam")
        # The aggregate of all components needs a name of its own: mskiam::mskiam is the core.
        self.cpp_info.set_property("cmake_target_name", "mskiam::all")
        self.cpp_info.set_property("pkg_config_name", "mskiam-all")

        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "mskiam::mskiam")
        core.set_property("pkg_config_name", "mskiam")
        core.bindirs = []
        core.libdirs = []
        self._require(core, "openssl", ["crypto"], ["crypto"])
        if self.options.with_curl:
            self._require(core, "libcurl", ["curl"], ["curl"])
        if self.settings.os in ("Linux", "FreeBSD"):
            core.system_libs.append("pthread")

        if self.options.with_rdkafka:
            rdkafka = self.cpp_info.components["rdkafka"]
            rdkafka.set_property("cmake_target_name", "mskiam::rdkafka")
            rdkafka.set_property("pkg_config_name", "mskiam-rdkafka")
            rdkafka.bindirs = []
            rdkafka.libdirs = []
            rdkafka.requires = ["core"]
            self._require(rdkafka, "librdkafka", ["rdkafka", "rdkafka++"], ["rdkafka++", "rdkafka"])

    def _require(self, component, package, components, system_libs):
        # A requirement that a profile's [platform_requires] gives to the system has no Conan package
        # and no cpp_info to point at: its libraries are linked by name, its headers are in the
        # compiler's default paths. `self.dependencies.host` leaves such requirements out.
        if package in self.dependencies.host:
            component.requires.extend(f"{package}::{c}" for c in components)
        else:
            component.system_libs.extend(system_libs)
