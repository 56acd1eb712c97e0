using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace EnvelopeKms.AspNetCore.DataProtection;

/// <summary>The repository form of an encrypted key element, and the plaintext's serialization.</summary>
internal static class EnvelopeKmsXmlFormat
{
    public static readonly XNamespace Namespace = "https://envelopekms.dev/dataprotection/2026";
    public static readonly XName EncryptedKey = Namespace + "encryptedKey";
    public static readonly XName Envelope = Namespace + "envelope";

    /// <summary>
    /// Associated data of every envelope: binds it to this use, so that an envelope made for something
    /// else under the same key (and context) is not accepted as a key element.
    /// </summary>
    public static readonly byte[] AssociatedData = "EnvelopeKms.AspNetCore.DataProtection key element v1"u8.ToArray();

    /// <summary>The largest envelope element this reader accepts (a key element is about a kilobyte).</summary>
    private const int MaxEnvelopeBase64Chars = 1 << 20;

    public static byte[] Serialize(XElement element)
    {
        using var stream = new MemoryStream();
        element.Save(stream, SaveOptions.DisableFormatting);
        return stream.ToArray();
    }

    public static XElement Deserialize(byte[] utf8)
    {
        using var stream = new MemoryStream(utf8, writable: false);
        using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
        return XElement.Load(reader);
    }

    public static XElement Wrap(string keyId, byte[] envelope)
        => new(
            EncryptedKey,
            new XComment($" This key is encrypted with EnvelopeKms key '{keyId.Replace("--", "- -", StringComparison.Ordinal)}'. "),
            new XElement(Envelope, new XAttribute("keyId", keyId), Convert.ToBase64String(envelope)));

    public static byte[] Unwrap(XElement encryptedElement)
    {
        if (encryptedElement.Name != EncryptedKey)
        {
            throw new KmsInvalidCiphertextException($"The encrypted key element is '{encryptedElement.Name.LocalName}', not an EnvelopeKms 'encryptedKey' element.");
        }

        var envelope = encryptedElement.Element(Envelope)
            ?? throw new KmsInvalidCiphertextException("The EnvelopeKms encrypted key element has no 'envelope' element.");
        var text = envelope.Value.Trim();
        if (text.Length == 0 || text.Length > MaxEnvelopeBase64Chars)
        {
            throw new KmsInvalidCiphertextException($"The EnvelopeKms 'envelope' element holds {text.Length} characters; it must hold 1 to {MaxEnvelopeBase64Chars} characters of base64.");
        }

        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException e)
        {
            throw new KmsInvalidCiphertextException("The EnvelopeKms 'envelope' element is not valid base64.", e);
        }
    }
}
