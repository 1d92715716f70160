#!/usr/bin/python3
"""META.json, the PGXN distribution metadata, is valid and in step.

Valid: checked against the rules of the PGXN Meta Spec 1.0.0
(https://pgxn.org/meta/spec.txt), written out here because no validator is
packaged for Debian: the mandatory keys, SemVer versions, terms, the
license names, the shape of provides, prereqs, resources and no_index.
Each rule also has a broken copy of the file that it must reject, so a
rule that checks nothing fails.

In step: the distribution and extension versions are user_mgmt.control's
default_version (as SemVer), the prerequisites name PostgreSQL 14 or later,
the files it names exist and are installed by the Makefile.

Run: /usr/bin/python3 test/python/test_pgxn_meta.py (needs no server).
"""

import copy
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
                    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")
LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd",
    "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit",
    "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5", "postgresql", "qpl_1_0", "ssleay",
    "sun", "zlib", "open_source", "restricted", "unrestricted", "unknown",
}
MANDATORY = ("name", "abstract", "version", "maintainer", "license", "provides", "meta-spec")
OPTIONAL = ("description", "generated_by", "tags", "no_index", "prereqs", "release_status",
            "resources")
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}
VERSION_RANGE = re.compile(r"^\s*(?:(?:==|!=|>=|<=|>|<)\s*)?(\S+)\s*$")


def is_term(value):
    """A term: at least two characters, no slash, backslash, control
    character or whitespace."""
    return isinstance(value, str) and len(value) >= 2 and not re.search(r"[/\\\s\x00-\x1f\x7f]", value)


def is_custom(key):
    return key.startswith(("x_", "X_"))


def version_ok(value):
    """A prereq version: 0 (any), a SemVer, or comma-separated ranges of them."""
    if value == 0 or value == "0":
        return True
    if not isinstance(value, str):
        return False
    for part in value.split(","):
        m = VERSION_RANGE.match(part)
        if not m or not SEMVER.match(m.group(1)):
            return False
    return True


def validate(meta):
    """The list of what breaks the spec (empty when valid)."""
    errors = []
    if not isinstance(meta, dict):
        return ["the document is not an object"]
    for key in MANDATORY:
        if key not in meta:
            errors.append("missing mandatory key %r" % key)
    for key in meta:
        if key not in MANDATORY and key not in OPTIONAL and not is_custom(key):
            errors.append("unknown key %r" % key)

    if "name" in meta and not is_term(meta["name"]):
        errors.append("name is not a term")
    for key in ("abstract", "description", "generated_by"):
        if key in meta and not (isinstance(meta[key], str) and meta[key].strip()):
            errors.append("%s is not a non-empty string" % key)
    if "version" in meta and not (isinstance(meta["version"], str) and SEMVER.match(meta["version"])):
        errors.append("version %r is not SemVer" % meta.get("version"))
    m = meta.get("maintainer")
    if m is not None and not (isinstance(m, str) and m.strip()
                              or isinstance(m, list) and m and all(isinstance(x, str) and x.strip() for x in m)):
        errors.append("maintainer is not a name or a list of names")
    lic = meta.get("license")
    if lic is not None:
        if isinstance(lic, str):
            ok = lic in LICENSES
        elif isinstance(lic, list):
            ok = bool(lic) and all(x in LICENSES for x in lic)
        elif isinstance(lic, dict):
            ok = bool(lic) and all(isinstance(v, str) and re.match(r"^https?://", v) for v in lic.values())
        else:
            ok = False
        if not ok:
            errors.append("license %r is not a known name, a list of them or names to URLs" % (lic,))

    provides = meta.get("provides")
    if provides is not None:
        if not isinstance(provides, dict) or not provides:
            errors.append("provides is not a non-empty object")
        else:
            for ext, spec in provides.items():
                if not is_term(ext):
                    errors.append("provides: %r is not a term" % ext)
                if not isinstance(spec, dict):
                    errors.append("provides.%s is not an object" % ext)
                    continue
                for key in ("file", "version"):
                    if key not in spec:
                        errors.append("provides.%s has no %s" % (ext, key))
                if "version" in spec and not (isinstance(spec["version"], str) and SEMVER.match(spec["version"])):
                    errors.append("provides.%s.version is not SemVer" % ext)
                for key in spec:
                    if key not in ("file", "version", "abstract", "docfile") and not is_custom(key):
                        errors.append("provides.%s: unknown key %r" % (ext, key))

    ms = meta.get("meta-spec")
    if ms is not None and not (isinstance(ms, dict) and ms.get("version") == "1.0.0"):
        errors.append("meta-spec.version is not 1.0.0")

    prereqs = meta.get("prereqs")
    if prereqs is not None:
        if not isinstance(prereqs, dict):
            errors.append("prereqs is not an object")
        else:
            for phase, rels in prereqs.items():
                if phase not in PHASES and not is_custom(phase):
                    errors.append("prereqs: unknown phase %r" % phase)
                if not isinstance(rels, dict):
                    errors.append("prereqs.%s is not an object" % phase)
                    continue
                for rel, deps in rels.items():
                    if rel not in RELATIONS and not is_custom(rel):
                        errors.append("prereqs.%s: unknown relationship %r" % (phase, rel))
                    if not isinstance(deps, dict):
                        errors.append("prereqs.%s.%s is not an object" % (phase, rel))
                        continue
                    for dep, ver in deps.items():
                        if not is_term(dep):
                            errors.append("prereqs.%s.%s: %r is not a term" % (phase, rel, dep))
                        if not version_ok(ver):
                            errors.append("prereqs.%s.%s.%s: %r is not a version" % (phase, rel, dep, ver))

    if "release_status" in meta and meta["release_status"] not in ("stable", "testing", "unstable"):
        errors.append("release_status is not stable, testing or unstable")
    tags = meta.get("tags")
    if tags is not None and not (isinstance(tags, list) and tags
                                 and all(isinstance(t, str) and 0 < len(t) <= 255 for t in tags)):
        errors.append("tags is not a list of strings of 1 to 255 characters")
    ni = meta.get("no_index")
    if ni is not None:
        if not isinstance(ni, dict) or set(ni) - {"file", "directory"}:
            errors.append("no_index has keys other than file and directory")
        else:
            for key, paths in ni.items():
                if not (isinstance(paths, list) and all(isinstance(p, str) and p for p in paths)):
                    errors.append("no_index.%s is not a list of paths" % key)
    res = meta.get("resources")
    if res is not None:
        if not isinstance(res, dict) or set(k for k in res if not is_custom(k)) - {"homepage", "bugtracker", "repository"}:
            errors.append("resources has unknown keys")
    return errors


def load():
    with open(os.path.join(REPO, "META.json"), encoding="utf-8") as f:
        return json.load(f)


def control():
    """user_mgmt.control as a dict of its settings."""
    settings = {}
    with open(os.path.join(REPO, "user_mgmt.control"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s*(\w+)\s*=\s*'?([^']*)'?\s*$", line)
            if m:
                settings[m.group(1)] = m.group(2)
    return settings


class SpecTest(unittest.TestCase):
    def test_meta_json_is_valid(self):
        self.assertEqual(validate(load()), [])

    def test_each_rule_rejects_a_broken_copy(self):
        def broken(change):
            meta = copy.deepcopy(load())
            change(meta)
            return meta

        cases = {
            "no license": lambda m: m.pop("license"),
            "no provides": lambda m: m.pop("provides"),
            "no meta-spec": lambda m: m.pop("meta-spec"),
            "an unknown key": lambda m: m.update(homepage="https://example.org"),
            "a name with a slash": lambda m: m.update(name="user/mgmt"),
            "a version that is not SemVer": lambda m: m.update(version="1.3"),
            "an unknown license": lambda m: m.update(license="postgres"),
            "an empty maintainer": lambda m: m.update(maintainer=[]),
            "an extension without file": lambda m: m["provides"]["user_mgmt"].pop("file"),
            "an extension version that is not SemVer": lambda m: m["provides"]["user_mgmt"].update(version="1.3"),
            "an unknown prereq phase": lambda m: m["prereqs"].update(install={"requires": {"PostgreSQL": "14.0.0"}}),
            "an unknown relationship": lambda m: m["prereqs"]["runtime"].update(needs={"PostgreSQL": "14.0.0"}),
            "a prereq version that is no version": lambda m: m["prereqs"]["runtime"]["requires"].update(PostgreSQL="fourteen"),
            "meta-spec 2.0.0": lambda m: m["meta-spec"].update(version="2.0.0"),
            "an unknown release status": lambda m: m.update(release_status="beta"),
            "an empty tag": lambda m: m.update(tags=[""]),
            "no_index with another key": lambda m: m.update(no_index={"files": ["x"]}),
        }
        for what, change in cases.items():
            with self.subTest(case=what):
                self.assertNotEqual(validate(broken(change)), [], "%s was accepted" % what)

    def test_version_ranges(self):
        for ok in (0, "0", "14.0.0", ">= 14.0.0", ">= 14.0.0, < 18.0.0", "== 15.2.0"):
            self.assertTrue(version_ok(ok), ok)
        for bad in ("14", "fourteen", ">= 14", None, 14):
            self.assertFalse(version_ok(bad), bad)


class InStepTest(unittest.TestCase):
    def test_versions_follow_default_version(self):
        meta = load()
        default = control()["default_version"]
        semver = default + ".0" if default.count(".") == 1 else default
        self.assertEqual(meta["version"], semver)
        self.assertEqual(meta["provides"]["user_mgmt"]["version"], semver)

    def test_postgresql_14_or_later(self):
        required = load()["prereqs"]["runtime"]["requires"]["PostgreSQL"]
        m = re.match(r"^(?:>=\s*)?(\d+)\.\d+\.\d+$", required)
        self.assertIsNotNone(m, required)
        self.assertGreaterEqual(int(m.group(1)), 14)

    def test_named_files_exist_and_are_installed(self):
        meta = load()
        ext = meta["provides"]["user_mgmt"]
        for key in ("file", "docfile"):
            self.assertTrue(os.path.isfile(os.path.join(REPO, ext[key])), ext[key])
        with open(os.path.join(REPO, "Makefile"), encoding="utf-8") as f:
            makefile = f.read()
        # DATA installs every sql/user_mgmt--*.sql (the package suite checks the result)
        self.assertRegex(makefile, r"(?m)^DATA\s*=.*\$\(wildcard \$\(srcdir\)/sql/user_mgmt--\*\.sql\)")
        self.assertRegex(ext["file"], r"^sql/user_mgmt--[0-9.]+\.sql$")
        for d in meta.get("no_index", {}).get("directory", []):
            self.assertTrue(os.path.isdir(os.path.join(REPO, d)), d)


if __name__ == "__main__":
    tap.main()
