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
