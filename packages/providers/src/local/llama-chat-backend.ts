import { type ChatHistoryItem, getLlama, LlamaChatSession } from 'node-llama-cpp';
import type { ReplicaBackend } from './worker-protocol.ts';

export interface LlamaChatBackendOptions {
  modelPath: string;
  contextSize: number;
  /** Calls one replica serves at once: one context sequence each. */
  sequences: number;
  /** CPU threads for evaluation; 1–2 per replica on a small machine. */
  threads: number;
}

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatTurn[];
  maxTokens: number;
  temperature: number;
  stop: string[];
  seed?: number;
}

export interface ChatAnswer {
  text: string;
  promptTokens: number;
  completionTokens: number;
  stopReason: string;
}

/**
 * A GGUF chat model on llama.cpp (CPU). The chat template is the one stored in the GGUF file,
 * which node-llama-cpp reads and applies. Each call gets its own context sequence and history.
 */
export async function loadBackend(raw: unknown): Promise<ReplicaBackend> {
  const options = raw as LlamaChatBackendOptions;
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
  const model = await llama.loadModel({ modelPath: options.modelPath });
  const context = await model.createContext({
    contextSize: options.contextSize,
    sequences: options.sequences,
    threads: options.threads,
  });

  async function chat(request: ChatRequest, signal: AbortSignal, emit: (text: string) => void): Promise<ChatAnswer> {
    const { history, prompt } = splitConversation(request.messages);
    const sequence = context.getSequence();
    const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: true });
    try {
      session.setChatHistory(history);
      let completionTokens = 0;
      const result = await session.promptWithMeta(prompt, {
        maxTokens: request.maxTokens,
        temperature: request.temperature,
        ...(request.seed === undefined ? {} : { seed: request.seed }),
        ...(request.stop.length === 0 ? {} : { customStopTriggers: request.stop }),
        signal,
        onTextChunk: emit,
        onToken: (tokens) => {
          completionTokens += tokens.length;
        },
      });
      return {
        text: result.responseText,
        promptTokens: Math.max(0, sequence.tokenMeter.usedInputTokens),
        completionTokens,
        stopReason: result.stopReason,
      };
    } finally {
      session.dispose();
    }
  }

  return {
    handlers: {
      chat: (input, call) => chat(input as ChatRequest, call.signal, (text) => call.emit(text)),
    },
    dispose: async () => {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

/** The last user turn is the prompt; everything before it is the history the template renders. */
function splitConversation(messages: ChatTurn[]): { history: ChatHistoryItem[]; prompt: string } {
  const last = messages.at(-1);
  if (last === undefined || last.role !== 'user') {
    throw new Error('a chat request must end with a user message');
  }
  const history: ChatHistoryItem[] = messages.slice(0, -1).map((turn) => {
    if (turn.role === 'system') return { type: 'system', text: turn.content };
    if (turn.role === 'user') return { type: 'user', text: turn.content };
    return { type: 'model', response: [turn.content] };
  });
  return { history, prompt: last.content };
}
