import os
import subprocess
import sys

import pytest
from pyspark.ml import PipelineModel
from pyspark.ml.feature import PCA
from pyspark.ml.linalg import Vectors

from fruits.datasets import SparkMLModelDataset


def test_model_round_trip_projects_identically(spark, tmp_path):
    data = spark.createDataFrame([(Vectors.dense([1.0, 2.0, 3.0]),), (Vectors.dense([2.0, 1.0, 0.0]),),
                                  (Vectors.dense([0.0, 1.0, 5.0]),)], ["x"])
    model = PipelineModel(stages=[PCA(k=2, inputCol="x", outputCol="p").fit(data)])
    dataset = SparkMLModelDataset(filepath=str(tmp_path / "model"))
    dataset.save(model)
    dataset.save(model)  # overwrites
    expected = [row.p for row in model.transform(data).collect()]
    assert [row.p for row in dataset.load().transform(data).collect()] == expected


# A PCA model as a refit saves it (1280 x 400 components, 4 MB), in a Spark of its own at the runs' WARN level.
SAVE_A_FULL_SIZE_PCA = """
import sys
import numpy as np
from pyspark.ml import PipelineModel
from fruits.datasets import SparkMLModelDataset
from fruits.pipelines.pca.nodes import spark_pca_model
from fruits.spark import start_spark
from tests.support.spark import local_spark_config

spark = start_spark(local_spark_config())
components = np.linalg.qr(np.random.default_rng(0).normal(size=(1280, 400)))[0]
dataset = SparkMLModelDataset(filepath=sys.argv[1])
dataset.save(PipelineModel(stages=[spark_pca_model(spark, components, np.full(400, 1 / 400))]))
print("k =", dataset.load().stages[0].pc.numCols)
"""


@pytest.mark.integration
def test_saving_a_full_size_pca_model_warns_of_no_large_task(tmp_path):
    result = subprocess.run([sys.executable, "-c", SAVE_A_FULL_SIZE_PCA, str(tmp_path / "model")],
                            capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "k = 400"
    assert "very large size" not in result.stderr, result.stderr[-3000:]
