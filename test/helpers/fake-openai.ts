import { startFakeOpenAI, type FakeServer } from '@llmwatch/fake-llm';
import { wrapOpenAI } from '@llmwatch/sdk';
import OpenAI from 'openai';
import { MODEL } from './peers-scenarios.js';

export interface WrappedOpenAI {
  fake: FakeServer;
  /** The official client on `fake`, wrapped by the llmwatch SDK. */
  client: OpenAI;
}

/**
 * Starts the fake OpenAI server and the SDK-wrapped official client on it (close `fake` when
 * done). With `warmUp`, one call is made first: first-call costs (lazy loads, JIT) would otherwise
 * land in whichever wrapper runs first and skew the latencies a test compares; so instrument
 * before calling this.
 */
export async function startWrappedOpenAI(options: { warmUp?: boolean } = {}): Promise<WrappedOpenAI> {
  const fake = await startFakeOpenAI();
  const client = wrapOpenAI(new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 }));
  if (options.warmUp)
    await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'warm up' }] });
  return { fake, client };
}

/** The text of a streamed chat completion, read to its end. */
export async function streamedText(
  stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>,
): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}
