/**
 * The most frequent function words of each supported Latin-script language: a few dozen suffice
 * to tell these languages apart on a sentence or more (Grefenstette, "Comparing two language
 * identification schemes", 1995), and they say nothing about topics, so term statistics (drift,
 * retrieval) skip them. One table for language detection at ingest and term evidence in analyses.
 */
export const STOPWORDS_BY_LANGUAGE: Readonly<Record<string, readonly string[]>> = {
  en: 'the and is are was to of in that it for on with as you this be have not what how can my your do i'.split(
    ' ',
  ),
  es: 'el la los las y es de que en un una por con para no se su al lo como pero más qué cómo'.split(' '),
  fr: 'le la les et est des du un une que en pour pas dans ce qui sur avec au vous je est-ce comment'.split(
    ' ',
  ),
  de: 'der die das und ist nicht ein eine zu den mit von sich auf für ich sie es dem wie was'.split(' '),
  it: 'il di che è e la per un una non sono gli le del della come ma questo mi ho'.split(' '),
  pt: 'o os e de que em um uma para com não é da do se por as mais como você'.split(' '),
  nl: 'de het een en is van dat niet op te zijn met voor er ik je wat hoe'.split(' '),
};

/** Every stopword once, in table order (a word shared by two languages counts for the first). */
export function stopwords(): string[] {
  return [...new Set(Object.values(STOPWORDS_BY_LANGUAGE).flat())];
}
