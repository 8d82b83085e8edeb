import { seededRandom, stopwords, type LlmCall } from '@llmwatch/core';
import { describe, expect, it } from 'vitest';
import { computeFeatures, detectLanguage, messageText, SKETCH_DIM, textSketch } from './features.js';

function call(input: unknown, output: unknown): LlmCall {
  return {
    inputContent: typeof input === 'string' ? input : JSON.stringify(input),
    outputContent: typeof output === 'string' ? output : JSON.stringify(output),
  } as LlmCall;
}

function cosine(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

describe('computeFeatures', () => {
  it('reads the text parts of GenAI messages and skips tool calls', () => {
    const input = [
      { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'What is the capital of France?' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'x', name: 'lookup', arguments: { q: 'zzz' } }] },
    ];
    expect(messageText(JSON.stringify(input))).toBe('Be brief.\nWhat is the capital of France?');
    const f = computeFeatures(
      call(input, [{ role: 'assistant', parts: [{ type: 'text', content: 'Paris.' }] }]),
    );
    expect(f.inputChars).toBe(40);
    expect(f.outputChars).toBe(6);
    expect(f.language).toBe('en');
    expect(f.inputSketch).toHaveLength(SKETCH_DIM);
    expect(f.outputSketch).toHaveLength(SKETCH_DIM);
  });

  it('gives empty features for calls without captured content', () => {
    expect(computeFeatures(call('', ''))).toEqual({
      inputChars: 0,
      outputChars: 0,
      language: '',
      inputSketch: [],
      outputSketch: [],
    });
  });

  it('accepts the legacy {role, content} shape and plain text', () => {
    expect(messageText(JSON.stringify([{ role: 'user', content: 'hola' }]))).toBe('hola');
    expect(messageText('not json {')).toBe('not json {');
  });
});

describe('textSketch', () => {
  it('is deterministic and L2-normalized', () => {
    const a = textSketch('refund my order please, it arrived broken');
    expect(textSketch('refund my order please, it arrived broken')).toEqual(a);
    expect(cosine(a, a)).toBeCloseTo(1, 5);
  });

  it('puts texts about the same thing closer than unrelated texts', () => {
    const refund1 = textSketch('I want a refund for my broken order, the refund should go to my card');
    const refund2 = textSketch('please refund my order, the order arrived broken and I want my refund');
    const code = textSketch('write a python function that parses json and returns a typed dataclass');
    expect(cosine(refund1, refund2)).toBeGreaterThan(cosine(refund1, code) + 0.2);
  });

  it('gives the same sketch on the ASCII fast path as on the general Unicode path', () => {
    // The em dash is a separator to the Unicode tokenizer and sends the text down the general path.
    const words = 'Refund MY order 42 times, the API_KEY rotation and the Invoice-2024 export';
    expect(textSketch(words.replaceAll(' ', ' \u2014 '))).toEqual(textSketch(words.replaceAll(' ', ' - ')));
  });

  it('gives the same sketches and languages on both paths over generated texts', () => {
    // Stopwords of every language, in any case, between words, digits and one-letter tokens; up
    // to 9,000 chars, past the 2,000 chars language detection samples and the 8,000 sketched.
    const vocabulary = [...stopwords(), 'refund', 'Invoice', 'x', '7', 'a1b2', 'ORDER', 'naive', 'gpt4o'];
    const separators = [' ', ' ', ', ', '. ', '\n', '-', '_', '/', '  '];
    for (let seed = 1; seed <= 300; seed++) {
      const random = seededRandom(seed);
      const pick = <T>(a: readonly T[]): T => a[Math.floor(random() * a.length)]!;
      const length = Math.floor(random() ** 2 * 9_000);
      let text = '';
      while (text.length < length) {
        const word = pick(vocabulary);
        text += (random() < 0.2 ? word.toUpperCase() : word) + pick(separators);
      }
      text = text.replace(/[\u0080-\uffff]/g, 'e');
      // The same tokens at the same offsets, but one non-ASCII separator: the general path. It
      // comes first or last, so the ASCII scan also gives up after counting most of the text.
      const space = seed % 2 ? text.indexOf(' ') : text.lastIndexOf(' ', 7_999);
      if (space < 0) continue;
      const general = `${text.slice(0, space)}\u2014${text.slice(space + 1)}`;
      expect(textSketch(text), `seed ${seed}`).toEqual(textSketch(general));
      expect(detectLanguage(text), `seed ${seed}`).toBe(detectLanguage(general));
      // computeFeatures counts the votes in the sketch's scan; the language is the same.
      expect(computeFeatures(call(text, '')).language, `seed ${seed}`).toBe(detectLanguage(general));
      expect(computeFeatures(call('', text)).language, `seed ${seed}`).toBe(detectLanguage(general));
      expect(computeFeatures(call(general, '')).language, `seed ${seed}`).toBe(detectLanguage(general));
    }
  });
});

describe('detectLanguage', () => {
  it('tells scripts and common Latin-script languages apart', () => {
    expect(detectLanguage('How do I reset my password for the account?')).toBe('en');
    expect(detectLanguage('¿Cómo puedo cambiar la contraseña de mi cuenta?')).toBe('es');
    expect(detectLanguage('Wie kann ich das Passwort für mein Konto ändern?')).toBe('de');
    expect(detectLanguage('Comment puis-je changer le mot de passe pour mon compte ?')).toBe('fr');
    expect(detectLanguage('如何重置我的密码')).toBe('zh');
    expect(detectLanguage('パスワードをリセットするには')).toBe('ja');
    expect(detectLanguage('Как сбросить пароль?')).toBe('ru');
    expect(detectLanguage('12345 !!!')).toBe('und');
    expect(detectLanguage('')).toBe('');
    // Regression: object-prototype names counted as stopwords and voted for "function Object()".
    expect(detectLanguage('constructor toString valueOf')).toBe('und');
  });

  it('counts a word the 2,000-char sample cuts as cut, in computeFeatures too', () => {
    // "therapy" starts 3 chars before the sample's end: the sample reads "the".
    const text = `${'qq '.repeat(665)}  therapy sessions`;
    expect(detectLanguage(text)).toBe('en');
    expect(detectLanguage(text.replace('therapy', '\u2014therapy'))).toBe('und');
    expect(computeFeatures(call(text, '')).language).toBe('en');
  });
});
