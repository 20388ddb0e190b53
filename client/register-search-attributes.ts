// Registers our search attributes on a real cluster (the dev server gets them
// as start flags). Idempotent: what exists with the right type is left alone;
// a name taken with another type is an error the operator must resolve.
import type { Client } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

// A CommonJS package: its namespace is its default export under ESM.
const IndexedValueType = proto.temporal.api.enums.v1.IndexedValueType;
const INDEXED_TYPE: Partial<Record<string, proto.temporal.api.enums.v1.IndexedValueType>> = {
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.INT]: IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

export async function registerSearchAttributes(client: Client, namespace: string): Promise<{ added: string[]; present: string[] }> {
  const operator = client.connection.operatorService;
  const { customAttributes } = await operator.listSearchAttributes({ namespace });
  const added: string[] = [];
  const present: string[] = [];
  const problems: string[] = [];
  for (const key of SEARCH_ATTRIBUTES) {
    const want = INDEXED_TYPE[key.type]!;
    const have = customAttributes?.[key.name];
    if (have === undefined || have === null) added.push(key.name);
    else if (have === want) present.push(key.name);
    else
      problems.push(
        `${key.name} exists in namespace "${namespace}" as ${IndexedValueType[have]}, this tool needs ${IndexedValueType[want]}: remove it (temporal operator search-attribute remove --name ${key.name}) or use another namespace`,
      );
  }
  if (problems.length) throw new Error(problems.join('\n'));
  if (added.length) {
    await operator.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        SEARCH_ATTRIBUTES.filter((k) => added.includes(k.name)).map((k) => [k.name, INDEXED_TYPE[k.type]!]),
      ),
    });
  }
  return { added, present };
}
