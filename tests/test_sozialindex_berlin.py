"""Berlin's Monitoring Soziale Stadtentwicklung 2017 rebuilt with the Sozialindex (../shared/data/berlin-lor).

The MSS status index is the sum of the z-scores of its four status indicators (S1 unemployment, S2 long-term
unemployment, S3 transfer recipients, S4 child poverty), classes by SD: below −1 "hoch", up to +1 "mittel", up to
+1.5 "niedrig", above "sehr niedrig". Our index with equal weights, z-scores (population SD) and the cut-offs
−1 / +1 / +1.5 reproduces the published class of every one of the 436 planning areas of the 2017 edition
(residual: none; 13 areas lie within 0.02 SD of a cut and still agree; the sample SD would give the same
classes). The rank order equals the published z sums' order (Spearman 1.0)."""
import numpy as np
import pandas as pd
import pytest

from keck_data.analysis import sozialindex
from keck_data.analysis.sozialindex import Spec
from keck_data.importing import import_areas, import_values
from keck_data.policy import system
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse
from tests.conftest import require_shared_data

STATUS = ["s1_percentage_unemployed", "s2_percentage_long_term_unemployed",
          "s3_percentage_transfer_payments_recipients", "s4_percentage_transfer_payments_recipients_below_15_years"]
META = "key;name;topic;unit;definition;calculation;source;reference_date;kind;aggregation;polarity;decimals\n" + "".join(
    f"{k};MSS S{i + 1};Soziale Lage;%;Statusindikator S{i + 1};laut MSS;MSS Berlin 2017;31.12.2016;mean;none;"
    "high_bad;5\n" for i, k in enumerate(STATUS))
MSS_2017 = "indicators/mss/berlin-lor-monitoring-social-urban-development-2017-00-planning-areas.csv"


@pytest.fixture(scope="module")
def berlin(tmp_path_factory):
    data = require_shared_data()
    base = tmp_path_factory.mktemp("berlin_index")
    (base / "meta.csv").write_text(META, encoding="utf-8")
    wh = Warehouse(base / "berlin.duckdb")
    import_areas(wh, data / "delivery" / "LOR_Planungsraeume_EPSG25833.zip", level="planungsraum",
                 level_name="Planungsraum", key_col="PLR_ID", name_col="PLR_NAME", municipality="Berlin",
                 dry_run=False, user=system("test"))
    import_values(wh, data / MSS_2017, level="planungsraum", layout="wide", key_col="id", name_col="name",
                  year=2017, key_width=8, columns={c: c for c in STATUS}, metadata=base / "meta.csv", dry_run=False,
                  user=system("test"))
    published = pd.read_csv(data / MSS_2017, dtype={"id": str})
    yield Atlas(wh), published
    wh.close()


def test_status_classes_of_the_monitoring_are_reproduced(berlin):
    atlas, published = berlin
    result = sozialindex.build(atlas, Spec("planungsraum", 2017, {k: 1.0 for k in STATUS}))
    ours = result.table[result.table["rank"] > 0].set_index("key")
    both = published.set_index("id").join(ours.drop(columns="name"), how="inner")
    assert len(both) == 436 and len(ours) == 436  # 12 of the 448 planning areas are not in the 2017 edition
    agree = (both["class"] == both["status_index"]).mean()
    assert agree >= 0.9
    assert agree == 1.0, both.loc[both["class"] != both["status_index"], ["name", "class", "status_index"]]
    labels = dict(zip(both["status_index_class"], both["class_label"]))
    assert labels == {"hoch": "Status hoch", "mittel": "Status mittel", "niedrig": "Status niedrig",
                      "sehr niedrig": "Status sehr niedrig"}
    z_sum = both[[c for c in both.columns if c.startswith("z_s")]].sum(axis=1)
    rho = np.corrcoef(z_sum.rank(), both["score"].rank())[0, 1]
    assert rho == pytest.approx(1.0, abs=1e-9)
    assert both.sort_values("rank")["status_index"].iloc[0] == 4  # rank 1: a "sehr niedrig" area
