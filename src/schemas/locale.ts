/**
 * zod/mini (what src/ uses: classic zod costs ~40 ms of cold start) loads no locale, so its issues would read
 * "Invalid input". Every module that parses imports this one, so messages stay classic zod's English ones, which
 * the 400 answers quote.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());
