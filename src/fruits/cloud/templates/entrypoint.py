"""EMR step entry point, rendered and uploaded by `fruits-cloud package`.

spark-submit needs a Python file to start the driver with; this one hands its arguments (``--env cloud
--conf-source s3://.../conf-@PACKAGE@.tar.gz`` plus any extra ``kedro run`` options) to the packaged Kedro
project's standard entry point, ``@PACKAGE@.__main__.main``, exactly as ``python -m @PACKAGE@ ...`` would.
"""

import importlib
import sys

if __name__ == "__main__":
    # Imported by name so that this template is itself valid Python (linters, byte-compilation on install).
    importlib.import_module("@PACKAGE@.__main__").main(sys.argv[1:])
