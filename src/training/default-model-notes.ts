/**
 * How the default and star models' values were chosen: their model cards' section. The figures
 * were measured with `sentiment-fleet train --preset default --out DIR` and the options named in
 * each row (the same folds and data; the run prints the leave-one-source-out table).
 */
export const DEFAULT_NOTES = `## How the values were chosen

By leave-one-source-out cross-validation over the 11 English sources (each fold trains on ten and
scores the eleventh; table below), never on the dev rows. The sealed evaluation is on shops that
are in none of these sources, so a setting is judged by its held-out-source mean, not by a gain on
one file. Each row is \`sentiment-fleet train --preset default\` with the options named; columns:
mean held-out accuracy over the 11 sources and over the 6 product-review sources (the previous
default never saw those), the weakest of the 6, and the trained model's SST-2 and Amazon
multi-domain dev accuracy.

| setting | LOSO mean (11) | mean (6 new) | weakest new | SST-2 dev | Amazon dev mean |
| --- | ---: | ---: | --- | ---: | ---: |
| previous default's settings (2^18 buckets, no feature scaling, no averaging), rows weighted as they come | 0.864 | 0.896 | 0.819 (app-store-chatgpt) | 0.825 | 0.861 |
| + source weighting (rows^0.5) | 0.869 | 0.898 | 0.815 (app-store-chatgpt) | 0.821 | 0.868 |
| + naive Bayes feature scaling (power 1) | 0.878 | 0.907 | 0.841 (app-store-chatgpt) | 0.814 | 0.884 |
| + epoch averaging (epochs 2..5) | 0.880 | 0.907 | 0.850 (app-store-chatgpt) | 0.813 | 0.882 |
| + 2^20 buckets | 0.881 | 0.907 | 0.849 (app-store-chatgpt) | 0.803 | 0.891 |
| **NB power 0.5 (chosen)** | **0.881** | **0.909** | **0.853 (app-store-chatgpt)** | **0.818** | **0.890** |
| chosen + trigrams | 0.882 | 0.909 | 0.852 (app-store-chatgpt) | 0.822 | 0.890 |
| chosen, every source the same total weight (rows^0) | 0.876 | 0.903 | 0.830 (app-store-chatgpt) | 0.794 | 0.881 |
| chosen, rows weighted as they come (rows^1) | 0.874 | 0.904 | 0.842 (app-store-chatgpt) | 0.830 | 0.875 |
| chosen, 2^19 buckets | 0.881 | 0.909 | 0.850 (app-store-chatgpt) | 0.820 | 0.882 |
| chosen, learning rate 1 | 0.880 | 0.907 | 0.847 (app-store-chatgpt) | 0.818 | 0.892 |

Naive Bayes feature scaling (NBSVM) is the one large gain: +0.9 points held out, +2.7 on the app-store
reviews, +1.6 on Amazon dev. Source weighting, epoch averaging, 2^20 buckets and NB power 0.5 add a
few tenths each; every other change is within fold noise (a 1,716-row fold moves ±1 point with the
seed alone). Trigrams tie and cost a third more features per review, so bigrams stay. Power 0.5 and
power 1 tie held out; 0.5 keeps SST-2 dev 1.5 points higher. SST-2 and the four Amazon
multi-domain files weigh 2× their share (\`DEV_TARGET_WEIGHT\`): they carry the dev targets.

Tried with an experimental script on the same folds before the feature scaling existed (LOSO mean
0.873 for source weighting alone; not kept): character 3–5-grams of each WordPiece piece in their
own hashed rows (0.865) and of whole words rebuilt from the pieces (0.866); class balancing within
each source (0.869: the product sources are 70–90% positive, and held out they keep that prior).
With the feature scaling: 2-star / 4-star rows as soft targets 0.15 / 0.85 (−0.4 points), and an
ensemble (averaged weight tables) of an SST-2 + Amazon model with the all-source model (SST-2 dev
+0.7, app-store −1.2, mean −0.3).

SST-2 dev accuracy is 0.818 against 0.827 for the previous default (McNemar p = 0.40 on 872
sentences: not significant), below the 0.83 asked: the product-review sources pull the shared
weights away from movie-review sentences, and over seeds the chosen setting's SST-2 dev accuracy
spread 0.812–0.830 (mean 0.818). \`npm run model:train\` runs \`sentiment-fleet train --preset
default\`; \`npm run model:eval\` scores the dev sets.
`;

/** How the star model's values were chosen. */
export const STARS_NOTES = `## How the values were chosen

The default model's features and training (naive Bayes scaling, epoch averaging, source weighting
rows^0.5), with the star rating as a 5-class label and 2^19 buckets so that five float16 label
columns stay under 8 MB. Only flipkart-reviews has 3-star rows (the other sources dropped them when
they were built), so the model rarely predicts 3 stars and the flipkart-reviews fold, which holds
out all of them, is its worst calibrated. The label is the most probable star (as for every
model); \`scores\` carries all five probabilities, so a client can take their expectation instead.
\`sentiment-fleet train --preset stars\` rebuilds it; \`sentiment-fleet eval --preset stars\` scores
its dev rows (accuracy, macro-F1, mean absolute error in stars, confusion matrix, ECE).
`;
