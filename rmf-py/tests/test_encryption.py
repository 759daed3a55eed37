"""Encrypted private streams from Python and the `rmf` command: keys as bytes, key files and
passphrases; what a reader without the key sees; no plaintext on disk; share and provenance."""

import json
import os
import subprocess

import numpy as np
import pytest

import rmf

NOTE = "the customer's part number is QX-99817-PRIVATE"


def write(path, **key):
    with rmf.EpisodeWriter(path, metadata={"task": "t", "tags": ["licence:CC-BY-4.0"]}, **key) as w:
        w.add_signal("joints", dtype="float64", shape=(2,), sensitivity="public")
        w.add_signal("ft", dtype="float32", shape=(3,), sensitivity="private")
        w.add_events("notes", sensitivity="private")
        for i in range(200):
            t = i * 1_000_000
            w.write("joints", t, np.array([i, -i], np.float64))
            w.write("ft", t, np.array([7777.5 + i, 2.0, 3.0], np.float32))
        w.write_event("notes", 5_000_000, kind="note", text=NOTE)


def error_kind(excinfo):
    return getattr(excinfo.value, "kind", None)


def test_round_trip_with_key_bytes_and_without_key(tmp_path):
    key = rmf.generate_key()
    assert len(key) == 32
    path = tmp_path / "e.rmf"
    write(path, key=key)

    ep = rmf.open(path, key=key)
    t, v = ep["ft"].read()
    assert np.array_equal(t, np.arange(200) * 1_000_000)
    assert np.array_equal(v[:, 0], 7777.5 + np.arange(200, dtype=np.float32))
    assert ep.events("notes").column("text").to_pylist() == [NOTE]

    ep = rmf.open(path)
    _, j = ep["joints"].read()
    assert np.array_equal(j[:, 1], -np.arange(200, dtype=np.float64))
    with pytest.raises(rmf.RmfError) as e:
        ep["ft"].read()
    assert error_kind(e) == "encrypted"
    assert "ft" in str(e.value)
    with pytest.raises(rmf.RmfError) as e:
        rmf.open(path, key=rmf.generate_key())
    assert error_kind(e) == "wrong_key"
    assert rmf.key_id(key) in str(e.value)

    assert rmf.validate(path) == []
    assert rmf.validate(path, key=key) == []
    with pytest.raises(TypeError):
        rmf.open(path, key=key, passphrase="x")
    with pytest.raises(ValueError):
        rmf.open(path, key=b"short")


def test_no_plaintext_on_disk(tmp_path):
    plain, enc = tmp_path / "p.rmf", tmp_path / "e.rmf"
    write(plain)
    write(enc, key=rmf.generate_key())
    needle = NOTE.encode()
    assert needle in plain.read_bytes()  # the check below would be empty otherwise
    assert needle not in enc.read_bytes()


def test_key_file_from_the_cli_and_passphrase(tmp_path, rmf_cli):
    keyfile = tmp_path / "robot.key"
    out = subprocess.run(
        [rmf_cli, "keygen", str(keyfile)], check=True, capture_output=True, text=True
    ).stdout
    assert rmf.key_id(keyfile) in out
    assert oct(keyfile.stat().st_mode & 0o777) == "0o600"
    path = tmp_path / "k.rmf"
    write(path, key=keyfile)
    assert rmf.open(path, key=str(keyfile))["ft"].read()[0].size == 200

    # The command line opens it with --key-file or RMF_KEY_FILE, and lists it without.
    info = subprocess.run(
        [rmf_cli, "info", str(path)], check=True, capture_output=True, text=True
    ).stdout
    assert "encrypted, no key" in info
    ok = subprocess.run(
        [rmf_cli, "validate", str(path), "--key-file", str(keyfile)],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    csv = tmp_path / "ft.csv"
    env = dict(os.environ, RMF_KEY_FILE=str(keyfile))
    subprocess.run([rmf_cli, "export", str(path), "--stream", "ft", str(csv)], check=True, env=env)
    assert len(csv.read_text().splitlines()) == 201
    refused = subprocess.run(
        [rmf_cli, "export", str(path), "--stream", "ft", str(tmp_path / "x.csv")],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "encrypted" in refused.stderr

    pw = tmp_path / "pw.rmf"
    write(pw, passphrase="open sesame")
    assert rmf.open(pw, passphrase="open sesame")["ft"].read()[0].size == 200
    with pytest.raises(rmf.RmfError) as e:
        rmf.open(pw, passphrase="close sesame")
    assert error_kind(e) == "wrong_key"
    # The writer's Argon2id cost is 64 MiB x 3 passes: a reader capped below it refuses first.
    with pytest.raises(ValueError, match="max_kdf_cost"):
        rmf.open(pw, passphrase="open sesame", max_kdf_cost=65536 * 3 - 1)
    assert rmf.open(pw, passphrase="open sesame", max_kdf_cost=65536 * 3)["ft"].count == 200


def test_share_and_verify_provenance(tmp_path, rmf_cli):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    write(src / "a.rmf", key=rmf.generate_key())
    with rmf.EpisodeWriter(src / "untagged.rmf") as w:
        w.add_signal("joints", dtype="float64", shape=(2,), sensitivity="public")
        w.write("joints", 0, np.zeros(2))

    r = rmf.share(src, out, max_label="internal", require_tags=["licence:CC-BY-4.0"])
    assert [s["output"] for s in r["shared"]] == [str(out / "a.rmf")]
    assert r["left_out"][0][0] == "untagged.rmf"
    prov = r["shared"][0]["provenance"]
    assert {d["stream"] for d in prov["dropped"]} == {"ft", "notes"}
    shared = rmf.open(out / "a.rmf")
    assert list(shared) == ["joints"]
    assert NOTE.encode() not in (out / "a.rmf").read_bytes()
    assert rmf.verify_provenance(out / "a.rmf", src / "a.rmf") == []

    # The command line: JSON report, and verify-provenance's exit code on a changed source.
    out2 = tmp_path / "out2"
    p = subprocess.run(
        [rmf_cli, "share", str(src), str(out2), "--max-label", "public", "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(p.stdout)
    assert len(report["shared"]) == 2
    ok = subprocess.run([rmf_cli, "verify-provenance", str(out2 / "a.rmf"), str(src / "a.rmf")])
    assert ok.returncode == 0
    bad = subprocess.run(
        [rmf_cli, "verify-provenance", str(out2 / "a.rmf"), str(src / "untagged.rmf")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "MISMATCH" in bad.stdout


def test_dataset_samples_encrypted_streams_with_its_key(tmp_path):
    import pickle

    keyfile = tmp_path / "k.key"
    keyfile.write_bytes(rmf.generate_key())
    data = tmp_path / "data"
    data.mkdir()
    write(data / "a.rmf", key=keyfile)
    rmf.index(data)
    streams = {"ft": rmf.asof(), "joints": rmf.asof()}

    ds = rmf.Dataset(data, reference="joints", streams=streams)
    with pytest.raises(rmf.RmfError) as e:
        ds[10]
    assert error_kind(e) == "encrypted"
    # The index is public: it keeps no statistics of the encrypted stream.
    assert "joints" in ds.stats and "ft" not in ds.stats

    ds = rmf.Dataset(data, reference="joints", streams=streams, key=keyfile)
    s = pickle.loads(pickle.dumps(ds))[10]
    assert s["ft"][0] == np.float32(7777.5 + 10)
    assert np.array_equal(s["joints"], [10.0, -10.0])


def test_transcode_reads_and_reseals_private_frames_with_the_key(tmp_path, rmf_cli):
    # Issue 19: transcode opened its input without the key, so a sealed frame stream was
    # "encrypted; open the file with its key" even when the key was given.
    key = rmf.generate_key()
    src, out = tmp_path / "cam.rmf", tmp_path / "cam-png.rmf"
    frames = [np.full((16, 16), 10 * i, np.uint8) for i in range(6)]
    with rmf.EpisodeWriter(src, key=key) as w:
        w.add_frames("cam/face", 16, 16, "gray8", sensitivity="private", codec="raw")
        for i, f in enumerate(frames):
            w.write("cam/face", i * 1_000_000, f)
    with pytest.raises(rmf.RmfError) as e:
        rmf.transcode(src, out, "png")
    assert error_kind(e) == "encrypted"
    report = rmf.transcode(src, out, "png", key=key)
    assert report["streams"][0][1] == "raw"
    _, got = rmf.open(out, key=key)["cam/face"].read()
    assert np.array_equal(got, np.stack(frames))
    assert rmf.open(out)["cam/face"].sensitivity == "private"
    with pytest.raises(rmf.RmfError) as e:
        rmf.open(out)["cam/face"].read()
    assert error_kind(e) == "encrypted"

    key_file = tmp_path / "k.key"
    key_file.write_bytes(key)
    cli_out = tmp_path / "cam-cli.rmf"
    done = subprocess.run(
        [
            rmf_cli,
            "transcode",
            str(src),
            str(cli_out),
            "--codec",
            "png",
            "--key-file",
            str(key_file),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    _, got = rmf.open(cli_out, key=key)["cam/face"].read()
    assert np.array_equal(got, np.stack(frames))
