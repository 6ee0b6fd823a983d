using NodeDns.Forwarding;
using NodeDns.Protocol;

namespace NodeDns.Core.Tests.Forwarding;

public class UpstreamQuestionTests
{
    private static readonly UpstreamQuestion Question = new(Wire.Name("many.example"), DnsType.A, DnsClass.IN, dnssecOk: false, checkingDisabled: false);

    private static byte[] Reply(ushort id, string name, int records)
    {
        var wire = new Wire().Header(id, 0x8180, 1, records, 0, 0).Question(name);
        for (int i = 0; i < records; i++)
        {
            wire.Bytes([0xC0, 12]).U16(1).U16(1).U32(60).U16(4).Bytes([192, 0, 2, (byte)i]);
        }

        return wire.ToArray();
    }

    [Fact]
    public void A_reply_to_this_question_is_an_answer()
    {
        Assert.Equal(ReplyMatch.Answer, Question.Match(Reply(7, "Many.Example", 3), 7, out DnsResponseMessage response));
        Assert.Equal(3, response.ToRecords().Count);
    }

    [Fact]
    public void A_reply_to_this_question_with_too_many_records_is_too_large()
    {
        Assert.Equal(ReplyMatch.TooLarge, Question.Match(Reply(7, "many.example", DnsLimits.MaxRecordsPerMessage + 1), 7, out _));
    }

    [Theory]
    [InlineData(8, "many.example")] // another ID
    [InlineData(7, "other.example")] // another question
    public void Anything_else_is_foreign_even_when_too_large(ushort id, string name)
    {
        Assert.Equal(ReplyMatch.Foreign, Question.Match(Reply(id, name, DnsLimits.MaxRecordsPerMessage + 1), 7, out _));
        Assert.Equal(ReplyMatch.Foreign, Question.Match(Reply(id, name, 1), 7, out _));
    }

    [Fact]
    public void Garbage_with_our_id_is_foreign()
    {
        byte[] garbage = [0, 7, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 63, 1, 2];
        Assert.Equal(ReplyMatch.Foreign, Question.Match(garbage, 7, out _));
    }
}
