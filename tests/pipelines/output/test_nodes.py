import numpy as np
import pyarrow.parquet as pq
from pyspark.ml.functions import vector_to_array

from fruits.pipelines.output.nodes import collect_rejects, project_features
from fruits.pipelines.pca.nodes import PCA_VECTOR, accepted_features, fit_pca
from fruits.tables import FEATURE_TABLE_SCHEMA


def test_results_and_rejects_partition_the_input(spark, tmp_path):
    rng = np.random.default_rng(1)
    rows = [(f"file:/t/{'Apple Braeburn' if i % 2 else 'Kiwi'}/{i}.jpg", "Apple Braeburn" if i % 2 else "Kiwi",
             [float(x) for x in rng.normal(size=8)], None) for i in range(20)]
    rows.append(("file:/t/Kiwi/broken.jpg", "Kiwi", None, "corrupt image: truncated"))
    features = spark.createDataFrame(rows, FEATURE_TABLE_SCHEMA)
    model, _ = fit_pca(features, {"variance_target": 0.9, "max_components": 8, "n_components": 4})

    results = project_features(features, model)
    rejects = collect_rejects(features)
    results.write.parquet(str(tmp_path / "results.parquet"))

    table = pq.read_table(tmp_path / "results.parquet").to_pandas()  # as users read it
    assert list(table.columns) == ["path", "label", "features", "pca_features"]
    assert len(table) == 20
    assert {len(v) for v in table["features"]} == {8}
    assert {len(v) for v in table["pca_features"]} == {4}
    assert table["pca_features"].iloc[0].dtype == np.float32
    assert [tuple(r) for r in rejects.collect()] == [("file:/t/Kiwi/broken.jpg", "Kiwi", "corrupt image: truncated")]


def test_projection_equals_the_saved_spark_ml_model(spark):
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(300, 16)) * np.geomspace(10, 0.1, 16) + 1  # decreasing variance per dimension
    rows = [(f"file:/t/a/{i}.jpg", "a", [float(x) for x in vector], None) for i, vector in enumerate(vectors)]
    features = spark.createDataFrame(rows, FEATURE_TABLE_SCHEMA)
    model, _ = fit_pca(features, {"variance_target": 0.8, "max_components": 12, "n_components": None})
    ours = {r.path: np.array(r.pca_features) for r in project_features(features.repartition(3), model).collect()}
    spark_ml = model.transform(accepted_features(features)).select("path", vector_to_array(PCA_VECTOR).alias("p"))
    expected = {r.path: np.array(r.p) for r in spark_ml.collect()}
    assert ours.keys() == expected.keys() and len(ours) == 300
    assert 1 < len(ours["file:/t/a/0.jpg"]) < 12
    difference = max(np.abs(ours[path] - expected[path]).max() for path in ours)
    assert difference < 1e-5 * max(np.abs(vector).max() for vector in expected.values())
