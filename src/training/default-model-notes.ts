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
| **NB power 0.5 (phase 1's choice)** | **0.881** | **0.909** | **0.853 (app-store-chatgpt)** | **0.818** | **0.890** |
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

### Phase 2: boundary tokens, negation scope, and the SST-2 question

The phase-1 model (the settings above, \`hngl-d8e275e38800\`) reached 0.818 on SST-2 dev, below the
0.83 asked. Candidates measured on the same 11 folds (an experimental script with the trainer and
features of this preset, SST-2 and Amazon dev in float32; the two bold rows are real runs; the
rows between them vary the boundary-token setting):

| candidate | LOSO mean (11) | app-store held out | SST-2 dev | Amazon dev mean |
| --- | ---: | ---: | ---: | ---: |
| phase-1 model's settings | 0.881 | 0.853 | 0.818 | 0.890 |
| "n't" contractions spelled alike (a tokenizer Replace rule: "does n't" = "doesn't" = "does not") | 0.880 | 0.849 | 0.812 | 0.885 |
| 2^21 buckets (int8 storage would be needed for 8 MB) | 0.882 | 0.853 | 0.815 | 0.890 |
| 2^22 buckets | 0.882 | 0.853 | 0.809 | 0.887 |
| **[CLS]/[SEP] as features (\`boundaryTokens\`)** | **0.886** | **0.848** | **0.825** | **0.893** |
| + 2^21 buckets | 0.885 | 0.846 | 0.823 | 0.895 |
| + contractions spelled alike | 0.885 | 0.851 | 0.823 | 0.888 |
| + trigrams | 0.884 | 0.845 | 0.826 | 0.897 |
| + NB power 1 | 0.885 | 0.852 | 0.817 | 0.892 |
| 10 epochs | 0.886 | 0.847 | 0.819 | 0.892 |
| weights averaged over 4 seeds | 0.884 | 0.841 | 0.813 | 0.887 |
| SST-2 weighs 4× its share (not 2×) | 0.885 | 0.848 | 0.823 | 0.890 |
| SST-2 8× | 0.881 | 0.838 | 0.828 | 0.887 |
| SST-2 16× | 0.874 | 0.832 | 0.836 | 0.877 |
| SST-2 32× | 0.864 | 0.832 | 0.827 | 0.866 |
| + negation scope, 5 tokens | 0.888 | 0.854 | 0.828 | 0.897 |
| **+ negation scope, 3 tokens (\`negationWindow\`, chosen)** | **0.887** | **0.853** | **0.826** | **0.896** |

Two changes are kept. The tokenizer's [CLS] and [SEP] as features: the first and last words pair
with the text's edges ("[CLS] great", "waste [SEP]": a verdict often opens or closes a review) and
the edge rows add a bias that shrinks with length; +0.5 point held out (Amazon folds +0.6 to +1.2;
app-store −0.5, within its ±1 seed noise), Amazon dev +0.3 on every seed tried. Negation scope: a
token within 3 after not, no, never, nothing, without, "n't", ... (punctuation and "but" end the
scope) adds a "(not) token" row, so "not very good" says "(not) good", which bigrams cannot;
+0.26, +0.24, +0.28 held out on three seeds (+0.19 in the real run: 10 of 11 folds up or level),
computed inside the ONNX graph with shifted masks and shown by the explainer as "(not) good".
Bigger tables tie: capacity is not what limits SST-2, so int8 or 4-bit tables were not needed. A
fastText bag of embeddings is the same model class for two labels (the logits are linear in the
same feature rows: each row's weights are its embedding times the output matrix), and its
strength, pretrained vectors, cannot be fetched here; not trained.

**SST-2 dev stays below 0.83** (0.826 for this model; over seeds 42, 1, 2 the chosen setting gives
0.813–0.827 in float32, and without negation over seeds 42, 1, 2, 3, 4 0.809–0.823, phase 1's
0.813–0.820). Weighting SST-2 is the only lever that moves it, and it costs every unseen source: at
16× its share SST-2 dev reaches 0.836 while the held-out mean falls 1.2 points, the app-store fold
1.6 and Amazon dev 1.6, and the short product-review rows (≤ 12 tokens) of the 10 other held-out
sources fall from 0.930 to 0.920, so a length-gated mixture of an SST-2-heavy model would not help
short reviews either. The sealed evaluation is on unseen sources, so the held-out mean decides:
SST-2 ≥ 0.83 is not reachable with this model without hurting them. The previous default
(\`hngl-4028dee49f7d\`) had 0.827; this model is 0.1 point below it (within the 0.5 point allowed;
McNemar test in docs/models.md). \`npm run model:train\` runs \`sentiment-fleet train --preset
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
