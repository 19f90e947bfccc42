/** The words the sentence reader knows without the registry: stop words, near misses, entity keywords. */

/** Words that are never an entity, a provider typo or an unknown provider's name. */
export const STOP_WORDS = new Set(
  `a an the and or but of to into onto towards in on at by for from with without via using use as is are be been it its
  this that these those them they we our my your their me us i all any every each some new old only just also then than
  so up out over under per once twice please can could would should will want wants need needs like let lets make set
  get gets got keep here there where when which what who how after before between within both either whole entire
  connect connects connecting sync syncs syncing synchronise synchronize load loads loading pull pulls pulling copy
  copies copying ingest ingests ingesting extract extracts extracting read reads reading fetch fetches fetching move
  moves moving mirror mirrors send sends push pushes land lands landing write writes writing dump dumps export
  exports import imports bring brings capture captures track tracks collect collects receive receives consume
  consumes consuming listen listens poll polls polling take takes grab gather archive archives backup back store
  stores storing save saves put run runs running schedule scheduled build create deliver feed pipe replicate
  replicates data dataset datasets database databases db dbs table tables schema schemas row rows field fields column
  columns lake datalake warehouse bucket buckets folder folders directory dir path prefix file files api apis
  endpoint endpoints source sources destination connector connectors pipeline pipelines job jobs instance server
  servers cluster host jdbc everything anything stuff info information object objects topic topics entity
  entities collection collections resource resources format formats type custom standard production prod staging dev
  test sandbox company team system app application platform minute minutes hour hours day days time times night week
  weeks month months utc am pm latest recent raw landing zone s`.split(/\s+/),
);

/**
 * English words one or two edits from a provider name or alias ("strip" / stripe, "openai" / openapi,
 * "mssql" / mysql, "confluence" / confluent): never read as a typo of one.
 */
export const NEAR_MISSES = new Set(
  `strip strips striped strike strikes stride strive reset rests rust rent mssql sqlserver confluence postage poster
  posters shopping shops graph graphs openai hubs jiras kafkas github's gitlab spotify shopper`.split(/\s+/),
);

/** Entity words that are also everyday English ("in any case", "in order to"): lower-case singular needs a data noun after it. */
export const AMBIGUOUS_SINGULARS = new Set(
  'case lead order charge issue event item record object user contact account deal project file commit node'.split(' '),
);
export const DATA_NOUN =
  /^\s+(?:data|records?|rows?|tables?|objects?|details|history|info|information|updates|changes|events|entit(?:y|ies)|endpoint|lines|items|ids)\b/i;

/** Keywords that mark the word before or after them as an entity name: "orders table", "table orders". */
export const ENTITY_KEYWORDS = new Set(
  'table tables object objects topic topics collection collections endpoint endpoints resource resources entity entities'.split(
    ' ',
  ),
);
/** Words allowed between a name and its keyword: "the Invoice__c custom object". */
export const KEYWORD_ADJECTIVES = new Set('custom standard main source raw the a an'.split(' '));
/** Words after a name that say it is a database, not a table: "from the shop database". */
export const CONTAINER_WORDS = new Set(
  'database db schema server instance cluster host bucket folder directory'.split(' '),
);

export const SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  repos: ['repository', 'repositories'],
  pull_requests: ['prs', 'pr'],
};
