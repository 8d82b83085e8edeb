/**
 * Whether a model's answer declines the request ("I can't help with that", "I don't have
 * information about …"). One rule for the whole product: the refusal evaluator and the RAG
 * diagnosis both ask it. Phrases are matched near the start of the answer, where models put a
 * refusal; a long answer that merely quotes such a phrase later on is not a refusal.
 */
const REFUSAL_PATTERNS: readonly RegExp[] = [
  // English: apologies, inability, missing knowledge, policy.
  /\b(?:i'?m|i am) (?:sorry|afraid)\b[^.!?\n]{0,80}\b(?:can(?:not|'t|’t)|unable|not able|don'?t|do not)\b/i,
  /\bi (?:can(?:not|'t|’t)|am unable to|am not able to|won'?t|will not) (?:help|assist|answer|provide|comply|do that|share|find|say)\b/i,
  /\bi (?:don'?t|do not) (?:have|know|see|find) (?:any |enough |the |that |specific |sufficient )?(?:information|details|data|context|knowledge|answer|record)/i,
  /\b(?:there is|there's|i found) no (?:information|mention|record|details?|answer)\b/i,
  /\b(?:the|provided) (?:context|documents?|sources?) (?:do(?:es)? not|don'?t|doesn'?t) (?:contain|mention|include|say|provide|cover)\b/i,
  /\bas an ai(?: language model)?\b[^.!?\n]{0,60}\b(?:can(?:not|'t)|unable|not able)\b/i,
  /\b(?:unable|not able) to (?:answer|help|assist|provide|find)\b/i,
  // Other languages the product detects (es, fr, de, it, pt, nl).
  /\blo siento\b|\bno (?:puedo|tengo información)\b/i,
  /\bje (?:suis désolé|ne peux pas|n'ai pas d'information)\b|\bdésolé\b/i,
  /\b(?:es tut mir leid|ich kann (?:nicht|leider nicht|ihnen nicht)|leider (?:kann|habe) ich)\b/i,
  /\bmi dispiace\b|\bnon (?:posso|ho informazioni)\b/i,
  /\b(?:desculpe|não posso|não tenho informações)\b/i,
  /\bhet spijt me\b|\bik kan (?:niet|u niet)\b/i,
];

/** How much of the answer is searched: a refusal is stated up front. */
const REFUSAL_HEAD_CHARS = 400;

export function isRefusal(answer: string): boolean {
  const head = answer.slice(0, REFUSAL_HEAD_CHARS);
  if (!head.trim()) return false;
  for (const pattern of REFUSAL_PATTERNS) if (pattern.test(head)) return true;
  return false;
}
