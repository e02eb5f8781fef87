#!/usr/bin/python3
"""Where a build promises a librdkafka (MSKIAM_EXPECT_RDKAFKA_VERSION: CI's 2.8.0 and newer
stages), a skip is a failure: the plugin tests and the emulator's KIP-368 case must fail there
when what they need is missing, and report a skip elsewhere. Versions compare as numbers."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "emulator"))
import test_emulator  # noqa: E402


def run(args, expect_version=None, **env):
    environment = {k: v for k, v in os.environ.items() if k != "MSKIAM_EXPECT_RDKAFKA_VERSION"}
    environment.update(env)
    if expect_version:
        environment["MSKIAM_EXPECT_RDKAFKA_VERSION"] = expect_version
    return subprocess.run([sys.executable] + args, env=environment, capture_output=True, text=True,
                          timeout=120, cwd=tempfile.gettempdir())


class SkipRulesTest(unittest.TestCase):
    PLUGIN_TEST = [os.path.join(TESTS, "plugin", "test_plugin.py"), "PluginTest.test_kcat_produce_and_consume"]

    def test_a_plugin_test_without_its_plugin_skips_elsewhere(self):
        done = run(self.PLUGIN_TEST, MSKIAM_PLUGIN="/nonexistent/libmskiam-rdkafka.so")
        self.assertEqual(done.returncode, 77, done.stderr)

    def test_a_plugin_test_without_its_plugin_fails_where_a_librdkafka_is_promised(self):
        done = run(self.PLUGIN_TEST, "2.8.0", MSKIAM_PLUGIN="/nonexistent/libmskiam-rdkafka.so")
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("skipped in a build that must run them all", done.stderr)

    def kip368(self, expect_version):
        with tempfile.TemporaryDirectory() as empty:  # no librdkafka >= 2.2 build to be found
            return run(["-m", "unittest", "-v", "test_emulator.Kip368Test"], expect_version,
                       MSKIAM_RDKAFKA_PREFIX=os.path.join(empty, "none"), XDG_CACHE_HOME=empty,
                       PYTHONPATH=os.path.join(TESTS, "emulator"))

    def test_kip368_without_a_new_librdkafka_skips_elsewhere(self):
        done = self.kip368(None)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("skipped", done.stderr)

    def test_kip368_without_a_new_librdkafka_fails_where_2_10_is_promised(self):
        done = self.kip368("2.10.0")  # "2.10.0" < "2.2" as text; as numbers it is newer
        self.assertNotEqual(done.returncode, 0, done.stderr)
        self.assertIn("promises librdkafka >= 2.2", done.stderr)

    def test_versions_compare_as_numbers(self):
        v = test_emulator.version_tuple
        self.assertGreater(v("2.10.0"), v("2.2"))
        self.assertGreater(v("2.14.2"), v("2.8.0"))
        self.assertLess(v("2.0.2"), (2, 2))


if __name__ == "__main__":
    unittest.main(verbosity=2)
