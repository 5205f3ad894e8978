"""A wheel carries the shipped models: `pip install sentiscore` predicts with no checkout beside it."""

import os
import subprocess
import sys
import zipfile

from tests.conftest import ROOT


def test_a_wheel_installs_and_predicts_with_the_shipped_models(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("sentiscore-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("sentiscore/models/sentiscore-e5-lite/ensemble.json", "sentiscore/models/sentiscore-lite/lite.json",
                   "sentiscore/models/sentiscore-e5-ru/encoder/model.safetensors",
                   "sentiscore/models/sentiscore-e5-fast/encoder/model.safetensors"):
        assert needed in names
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    check = ("import sentiscore; from sentiscore import predict; "
             "assert sentiscore.__file__.startswith(sys.argv[1]), sentiscore.__file__; "
             "print(predict('Отличный фильм, пересмотрю ещё не раз', model='sentiscore-lite').sentiment); "
             "print(predict('Скучный, затянутый фильм, зря потратил два часа', model='sentiscore-e5-fast').sentiment)")
    ran = subprocess.run([sys.executable, "-c", f"import sys; {check}", str(tmp_path / "site")], cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(tmp_path / "site")}, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["positive", "negative"]
