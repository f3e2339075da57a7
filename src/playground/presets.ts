/**
 * The seed tutorial's prompt patterns (its "提示技巧" section), as requests to this API. The playground offers them
 * as presets (served as presets.json), docs/examples.md shows them with their simulated output, and the tests check
 * both against these bodies and the OpenAPI document.
 */
export interface PromptPreset {
  id: string;
  title: string;
  /** What the pattern shows, in one or two sentences. */
  description: string;
  mode: 'completion' | 'chat';
  /** The request body, without `stream` (the caller decides). */
  body: {
    model?: string;
    prompt?: string;
    messages?: { role: 'system' | 'user' | 'assistant'; content: string }[];
    max_tokens: number;
    temperature: number;
    top_p?: number;
    stop?: string[];
    presence_penalty?: number;
    frequency_penalty?: number;
  };
}

export const promptPresets: PromptPreset[] = [
  {
    id: 'generation',
    title: 'Generation: a numbered-list lead-in',
    description:
      'State the intent, show one finished item so the model sees the format, and end the prompt with "2. " so it continues the list.',
    mode: 'completion',
    body: {
      prompt:
        'List the advantages of Python, one short line each.\n\n1. Easy to learn: the syntax is simple and reads like English.\n2. ',
      max_tokens: 120,
      temperature: 0,
    },
  },
  {
    id: 'dialogue',
    title: 'Dialogue: a stop sequence keeps the model to its own lines',
    description:
      'A few turns of example dialogue set the tone; `stop: ["Doctor:"]` ends the answer before the model starts writing the user\'s next line.',
    mode: 'completion',
    body: {
      prompt:
        'The following is a conversation between a doctor and an AI assistant. The assistant is helpful, precise and friendly.\n\nDoctor: Hello, who are you?\nAI: I am an AI assistant. How can I help you today?\nDoctor: What is a token, and why should I count them?\nAI:',
      max_tokens: 150,
      temperature: 0,
      stop: ['Doctor:'],
    },
  },
  {
    id: 'classification',
    title: 'Classification: few-shot review sentiment',
    description:
      'Four labelled reviews of The Witcher 3 show the pattern; the model labels the fifth as Positive or Negative. `stop: ["\\n"]` keeps the answer to one label.',
    mode: 'completion',
    body: {
      prompt:
        'Classify each review of The Witcher 3 as Positive or Negative.\n\nReview: The best open world I have ever played; every side quest tells a story.\nSentiment: Positive\n\nReview: It crashed three times in the first hour and the combat feels clumsy.\nSentiment: Negative\n\nReview: The Bloody Baron quest alone is worth the price.\nSentiment: Positive\n\nReview: Too much inventory management and the horse gets stuck on every fence.\nSentiment: Negative\n\nReview: Beautiful music, sharp writing, and characters I still think about.\nSentiment:',
      max_tokens: 5,
      temperature: 0,
      stop: ['\n'],
    },
  },
];
