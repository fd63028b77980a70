"""A Palmer-penguins-like table made here (no download): the shape that misled a
new user. Torgersen's penguins are all Adelie; Biscoe holds Adelie and Gentoo,
Dream Adelie and Chinstrap; the last column is ``year``, not the target."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: species -> (bill length, bill depth, flipper length, body mass) means
_MEANS = {"Adelie": (38.8, 18.3, 190.0, 3700.0), "Chinstrap": (48.8, 18.4, 196.0, 3730.0),
          "Gentoo": (47.5, 15.0, 217.0, 5080.0)}
#: island -> (species, rows)
_ISLANDS = {"Torgersen": (("Adelie", 52),), "Biscoe": (("Adelie", 44), ("Gentoo", 124)),
            "Dream": (("Adelie", 56), ("Chinstrap", 68))}


def penguins(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for island, groups in _ISLANDS.items():
        for species, n in groups:
            bl, bd, fl, bm = _MEANS[species]
            parts.append(pd.DataFrame({
                "species": species, "island": island,
                "bill_length_mm": np.round(rng.normal(bl, 2.5, n), 1),
                "bill_depth_mm": np.round(rng.normal(bd, 1.0, n), 1),
                "flipper_length_mm": np.round(rng.normal(fl, 6.0, n)),
                "body_mass_g": np.round(rng.normal(bm, 400.0, n), -1),
                "sex": rng.choice(["male", "female"], n),
                "year": rng.choice([2007, 2008, 2009], n)}))
    frame = pd.concat(parts, ignore_index=True)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
