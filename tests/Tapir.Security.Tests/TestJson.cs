// Source-generated JSON for the few values tests serialize (no reflection, as in the product).
using System.Text.Json.Serialization;

namespace Tapir.Security.Tests;

[JsonSerializable(typeof(string))]
internal sealed partial class TestJson : JsonSerializerContext;
