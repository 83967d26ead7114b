// Reads an HTTP/1.1 message as captured from the wire (CRLF or bare LF line ends): start line,
// field lines (obsolete line folding joined with one space, RFC 9421 §2.1), body by
// Content-Length, or chunked (byte-exact) with trailers. Used by the reviewer tools on captured requests.
// Refuses: malformed start or field lines, a Content-Length that is not the body's length, a
// chunk size beyond the rest of the input. Host code, not library: the verifier judges only the
// HttpMessage built here (the core builds its own from Kestrel's request); the fuzz harness and
// the RFC 9421 vector tests compile this file in.
using System.Globalization;
using System.Text;
using Tapir.Security.HttpSignatures;

namespace Tapir.Cli;

public static class HttpMessageText
{
    public static bool TryParse(ReadOnlySpan<byte> raw, string scheme, [NotNullWhen(true)] out HttpMessage? message)
    {
        message = null;
        int headerEnd = FindHeaderEnd(raw, out int bodyStart);
        if (headerEnd < 0)
        {
            return false;
        }
        string head = System.Text.Encoding.Latin1.GetString(raw[..headerEnd]);
        var lines = head.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (!TryFields(lines.Skip(1), out var fields))
        {
            return false;
        }
        byte[] body = raw[bodyStart..].ToArray();
        var trailers = new List<KeyValuePair<string, string>>();
        bool chunked = fields.Any(f => f.Key.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase) && f.Value.Contains("chunked", StringComparison.OrdinalIgnoreCase));
        if (chunked && !TryDechunk(body, out body, trailers))
        {
            return false;
        }
        var length = fields.Where(f => f.Key.Equals("content-length", StringComparison.OrdinalIgnoreCase)).Select(f => f.Value).ToList();
        if (!chunked && length.Count > 0 && (length.Count > 1 || !long.TryParse(length[0], NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n != body.Length))
        {
            return false;
        }
        string[] start = lines[0].Split(' ', 3);
        if (start.Length >= 2 && start[0].StartsWith("HTTP/", StringComparison.Ordinal))
        {
            if (start[1].Length != 3 || !int.TryParse(start[1], NumberStyles.None, CultureInfo.InvariantCulture, out int status))
            {
                return false;
            }
            message = new HttpMessage { Status = status, Fields = fields, Trailers = trailers, Body = body, Scheme = scheme };
            return true;
        }
        if (start.Length != 3 || !start[2].StartsWith("HTTP/", StringComparison.Ordinal) || start[0].Length == 0 || start[1].Length == 0)
        {
            return false;
        }
        message = new HttpMessage { Method = start[0], Target = start[1], Fields = fields, Trailers = trailers, Body = body, Scheme = scheme };
        return true;
    }

    /// <summary>The message as HTTP/1.1 text with CRLF line ends (chunked bodies are written de-chunked).</summary>
    public static byte[] Write(HttpMessage message)
    {
        var head = new StringBuilder();
        head.Append(message.IsRequest ? $"{message.Method} {message.Target} HTTP/1.1" : $"HTTP/1.1 {message.Status:000}").Append("\r\n");
        foreach (var (name, value) in message.Fields)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        head.Append("\r\n");
        return [.. System.Text.Encoding.Latin1.GetBytes(head.ToString()), .. message.Body];
    }

    private static int FindHeaderEnd(ReadOnlySpan<byte> raw, out int bodyStart)
    {
        int crlf = raw.IndexOf("\r\n\r\n"u8);
        int lf = raw.IndexOf("\n\n"u8);
        if (crlf >= 0 && (lf < 0 || crlf < lf))
        {
            bodyStart = crlf + 4;
            return crlf;
        }
        if (lf >= 0)
        {
            bodyStart = lf + 2;
            return lf;
        }
        bodyStart = raw.Length;
        return raw.Length > 0 ? raw.Length : -1;
    }

    private static bool TryFields(IEnumerable<string> lines, out List<KeyValuePair<string, string>> fields)
    {
        fields = [];
        foreach (var line in lines)
        {
            if (line.Length > 0 && line[0] is ' ' or '\t')
            {
                if (fields.Count == 0)
                {
                    return false;
                }
                var last = fields[^1];
                fields[^1] = new(last.Key, (last.Value + " " + line.Trim(' ', '\t')).Trim(' ', '\t'));
                continue;
            }
            int colon = line.IndexOf(':');
            if (colon <= 0 || line[..colon].Any(c => !SfTokenChar(c)))
            {
                return false;
            }
            fields.Add(new(line[..colon], line[(colon + 1)..].Trim(' ', '\t')));
        }
        return true;
    }

    private static bool SfTokenChar(char c) => c > ' ' && c < 0x7f && c is not ('(' or ')' or ',' or '/' or ':' or ';' or '<' or '=' or '>' or '?' or '@' or '[' or '\\' or ']' or '{' or '}' or '"');

    /// <summary>Chunked transfer coding (RFC 9112 §7.1), byte-exact: size line, that many octets, line end.</summary>
    private static bool TryDechunk(byte[] raw, out byte[] body, List<KeyValuePair<string, string>> trailers)
    {
        body = [];
        var output = new List<byte>();
        int pos = 0;
        while (true)
        {
            if (ReadLine(raw, ref pos) is not string sizeLine
                || !int.TryParse(sizeLine.Split(';')[0].Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int size) || size < 0)
            {
                return false;
            }
            if (size == 0)
            {
                var lines = new List<string>();
                while (ReadLine(raw, ref pos) is string line && line.Length > 0)
                {
                    lines.Add(line);
                }
                if (!TryFields(lines, out var parsed))
                {
                    return false;
                }
                trailers.AddRange(parsed);
                body = output.ToArray();
                return true;
            }
            if (size > raw.Length - pos)
            {
                return false; // beyond the rest of the input (compared without adding: pos + size can overflow)
            }
            output.AddRange(raw.AsSpan(pos, size).ToArray());
            pos += size;
            if (ReadLine(raw, ref pos) is not "")
            {
                return false; // the chunk must end exactly where its size says
            }
        }
    }

    /// <summary>The next line (without CRLF or LF), or null at the end of the input.</summary>
    private static string? ReadLine(byte[] raw, ref int pos)
    {
        if (pos >= raw.Length)
        {
            return null;
        }
        int end = Array.IndexOf(raw, (byte)'\n', pos);
        int stop = end < 0 ? raw.Length : end;
        string line = System.Text.Encoding.Latin1.GetString(raw, pos, stop - pos).TrimEnd('\r');
        pos = end < 0 ? raw.Length : end + 1;
        return line;
    }
}
