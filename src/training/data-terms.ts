/**
 * The source and terms of the known data sets (../shared/data/README.md), recognized by path, for
 * model cards. MARC forbids commercial use: a model trained on it carries that restriction.
 */
export interface DataTerms {
  text: string;
  /** Research use only: no commercial use of a model trained on it. */
  researchOnly: boolean;
}

export const RESEARCH_ONLY_NOTICE =
  'trained on the Multilingual Amazon Reviews Corpus (MARC), whose licence allows academic research only: no commercial use (commercial research included), no resale or republishing. This model carries that restriction.';

const KNOWN: [string, DataTerms][] = [
  [
    'sst2',
    {
      text: "Stanford Sentiment Treebank, binary (GLUE SST-2; Socher et al. 2013). Research data: the original publishers' terms apply.",
      researchOnly: false,
    },
  ],
  [
    'amazon-multidomain',
    {
      text: "Multi-Domain Sentiment Dataset, Amazon product reviews (Blitzer, Dredze, Pereira 2007). Research data: the original publishers' terms apply.",
      researchOnly: false,
    },
  ],
  [
    'amazon-reviews-multi',
    {
      text: 'Multilingual Amazon Reviews Corpus (MARC; Keung, Lu, Szarvas, Smith, EMNLP 2020), train split only. Licence: academic research only; no commercial use, including commercial research; no resale or republishing.',
      researchOnly: true,
    },
  ],
  [
    'amazon-in-earphones',
    {
      text: 'Amazon.in earphone reviews (Kaggle "Amazon Earphones Reviews", Shital Kat, 2019). No terms stated in the copy used; the Kaggle listing\'s terms were not verified.',
      researchOnly: false,
    },
  ],
  [
    'datafiniti-amazon-devices',
    {
      text: 'Datafiniti "Consumer Reviews of Amazon Products" (free sample; listed as CC BY-NC-SA 4.0, not verified): non-commercial, share-alike.',
      researchOnly: false,
    },
  ],
  [
    'flipkart-appliances-phones',
    { text: 'Flipkart reviews of phones, laptops and appliances (scraped; no terms stated).', researchOnly: false },
  ],
  [
    'app-store-chatgpt-ios',
    {
      text: 'iOS App Store reviews of the ChatGPT app, May-July 2023 (a Kaggle set; no terms stated).',
      researchOnly: false,
    },
  ],
  [
    'flipkart-reviews',
    {
      text: 'Flipkart product reviews, mostly electronics (scraped; no sentiment label: 1-2 stars taken as negative, 4-5 as positive, 3 left out; no terms stated).',
      researchOnly: false,
    },
  ],
];

export function dataTerms(file: string): DataTerms {
  const p = file.replaceAll('\\', '/');
  for (const [key, terms] of KNOWN) if (p.includes(key)) return terms;
  return { text: `\`${file}\`: user-supplied data, its own terms apply.`, researchOnly: false };
}
