"""EMR step entry point, rendered and uploaded by `fruits-cloud package`.

spark-submit needs a Python file to start the driver with; this one hands its arguments (``--env cloud
--conf-source s3://.../conf-@PACKAGE@.tar.gz`` plus any extra ``kedro run`` options) to the packaged Kedro
project's standard entry point, exactly as ``python -m @PACKAGE@ ...`` would.
"""

import sys

from @PACKAGE@.__main__ import main

if __name__ == "__main__":
    main(sys.argv[1:])
