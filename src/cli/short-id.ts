/** GUIDs (Azure DevOps collections) are shortened like git hashes; readable ids stay whole. */
export const shortId = (id: string): string => (/^[0-9a-f]{8}-[0-9a-f-]{27}$/i.test(id) ? id.slice(0, 8) : id);
