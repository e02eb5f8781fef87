# Conan profile for `conan create` without ConanCenter: mskiam's requirements are the system's
# libraries (Debian's libssl-dev, libcurl4-openssl-dev, librdkafka-dev). Conan resolves each to the
# version given here, downloads nothing, and the recipe links the library by name. The versions are
# the installed ones, as pkg-config reports them; scripts/conan-create.sh exports them, so that the
# recipe's version ranges are checked against what is really there. Combine with a profile for the
# compiler: `conan create . -pr:a default -pr:a tests/packaging/conan/system-libraries.profile`.
[settings]
compiler.cppstd=17

[platform_requires]
openssl/{{ os.getenv("MSKIAM_SYSTEM_OPENSSL_VERSION") }}
libcurl/{{ os.getenv("MSKIAM_SYSTEM_LIBCURL_VERSION") }}
librdkafka/{{ os.getenv("MSKIAM_SYSTEM_RDKAFKA_VERSION") }}
