/** One page of a cursor-paginated list in OpenAI's shape (`first_id`/`last_id` are the cursors for the next page). */
export const listPage = <T extends { id: string }>(data: T[], hasMore: boolean) => ({
  object: 'list' as const,
  data,
  first_id: data[0]?.id ?? null,
  last_id: data.at(-1)?.id ?? null,
  has_more: hasMore,
});
