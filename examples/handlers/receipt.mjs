// The transactional-enqueue examples' handler: the receipt of an order (a real one would email it).
export default async function receipt({ orderId, item, qty }) {
  return { orderId, receipt: `${qty} x ${item}` };
}
